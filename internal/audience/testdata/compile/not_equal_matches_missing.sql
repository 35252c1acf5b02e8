SELECT
  p."profile_id"
FROM (
select * from "main"."profiles"
) AS p
WHERE coalesce(TRY_CAST(json_extract_string(p."traits", '$.consent.marketing') AS BOOLEAN) <> TRUE, TRUE)
