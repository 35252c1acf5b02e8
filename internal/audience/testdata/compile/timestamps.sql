SELECT
  p."profile_id",
  p."last_order_at"
FROM (
select * from "main"."profiles"
) AS p
WHERE (coalesce(p."last_order_at" >= TRY_CAST('2026-10-25 00:00:00.000000+00' AS TIMESTAMPTZ), FALSE)
  OR coalesce(p."last_order_at" < TRY_CAST('2026-10-01' AS TIMESTAMPTZ), FALSE))
