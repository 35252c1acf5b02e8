SELECT
  p."profile_id",
  p."email"
FROM (
select * from "main"."profiles"
) AS p
WHERE ((p."email" IS NULL)
  OR coalesce(json_extract_string(p."traits", '$.plan') NOT IN ('pro', 'free', 'enterprise'), TRUE))
