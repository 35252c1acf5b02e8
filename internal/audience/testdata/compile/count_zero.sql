SELECT
  p."profile_id",
  p."email"
FROM (
select * from "main"."profiles"
) AS p
WHERE coalesce((
  SELECT count(*) FROM "main"."profile_events" AS e
  WHERE e."profile_id" = p."profile_id"
  AND e."event" = 'Order Completed'
  AND e."timestamp" <= TRY_CAST('2026-11-01 00:00:00.000000+00' AS TIMESTAMPTZ)) = 0, FALSE)
