SELECT
  p."profile_id",
  p."email",
  p."total_spend"
FROM (
select * from "main"."profiles"
) AS p
WHERE (coalesce(p."total_spend" >= 100, FALSE)
  AND coalesce(json_extract_string(p."traits", '$.plan') IN ('pro', 'enterprise'), FALSE)
  AND coalesce((
    SELECT count(*) FROM "main"."profile_events" AS e
    WHERE e."profile_id" = p."profile_id"
    AND e."event" = 'Order Completed'
    AND e."timestamp" >= TRY_CAST('2026-10-02 00:00:00.000000+00' AS TIMESTAMPTZ)
    AND e."timestamp" <= TRY_CAST('2026-11-01 00:00:00.000000+00' AS TIMESTAMPTZ)) >= 2, FALSE)
  AND coalesce(coalesce((
    SELECT sum(TRY_CAST(json_extract_string(e."properties", '$.revenue') AS DOUBLE)) FROM "main"."profile_events" AS e
    WHERE e."profile_id" = p."profile_id"
    AND e."event" = 'Order Completed'
    AND e."timestamp" >= TRY_CAST('2026-10-02 00:00:00.000000+00' AS TIMESTAMPTZ)
    AND e."timestamp" <= TRY_CAST('2026-11-01 00:00:00.000000+00' AS TIMESTAMPTZ)), 0) >= 200, FALSE)
  AND NOT EXISTS (SELECT 1 FROM "main"."churned" AS a WHERE a."profile_id" = p."profile_id")
  AND (coalesce(strpos(p."email", '@example.com') > 0, FALSE)
    OR coalesce(TRY_CAST(json_extract_string(p."traits", '$.consent.marketing') AS BOOLEAN) = TRUE, FALSE)))
