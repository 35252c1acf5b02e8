SELECT
  p."profile_id",
  p."email"
FROM (
select * from "main"."profiles"
) AS p
WHERE coalesce(TRY_CAST(json_extract_string(p."traits", '$.age') AS DOUBLE) > 40, FALSE)
