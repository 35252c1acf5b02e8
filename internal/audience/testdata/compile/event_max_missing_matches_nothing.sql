SELECT
  p."profile_id",
  p."email"
FROM (
select * from "main"."profiles"
) AS p
WHERE NOT coalesce((
  SELECT max(TRY_CAST(json_extract_string(e."properties", '$.revenue') AS DOUBLE)) FROM "main"."profile_events" AS e
  WHERE e."profile_id" = p."profile_id"
  AND e."event" = 'Order Completed'
  AND e."timestamp" <= TRY_CAST('2026-11-01 00:00:00.000000+00' AS TIMESTAMPTZ)) > 120, FALSE)
