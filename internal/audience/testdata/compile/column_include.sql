SELECT
  p."profile_id",
  p."email",
  p."total_spend"
FROM (
select * from "main"."profiles"
) AS p
WHERE coalesce(p."total_spend" >= 100, FALSE)
