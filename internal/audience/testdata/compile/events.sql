SELECT
  p."profile_id",
  p."email"
FROM (
select * from "main"."profiles"
) AS p
WHERE (EXISTS (
    SELECT 1 FROM "main"."profile_events" AS e
    WHERE e."profile_id" = p."profile_id"
    AND e."event" IN ('Product Added', 'Checkout Started')
    AND e."timestamp" >= TRY_CAST('2026-10-25 00:00:00.000000+00' AS TIMESTAMPTZ)
    AND e."timestamp" <= TRY_CAST('2026-11-01 00:00:00.000000+00' AS TIMESTAMPTZ))
  OR EXISTS (
    SELECT 1 FROM "main"."profile_events" AS e
    WHERE e."profile_id" = p."profile_id"
    AND e."event" = 'Order Completed'
    AND e."timestamp" >= TRY_CAST('2026-10-25 00:00:00.000000+00' AS TIMESTAMPTZ)
    AND e."timestamp" <= TRY_CAST('2026-11-01 00:00:00.000000+00' AS TIMESTAMPTZ)
    AND coalesce(json_extract_string(e."properties", '$.currency') = 'USD', FALSE)))
