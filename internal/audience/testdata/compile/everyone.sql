SELECT
  p."profile_id",
  p."email",
  p."total_spend",
  p."last_order_at",
  p."traits",
  p."total_orders"
FROM (
select * from "main"."profiles"
) AS p
