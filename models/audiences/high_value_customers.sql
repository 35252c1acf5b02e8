{{ config(materialized='audience') }}
-- High value last 30 days: profiles who spent at least 200 or ordered at least twice in the
-- last 30 days and consented to marketing. The rules are in audiences.yml; this SELECT is the
-- population they filter. The rules read profile_events, hence the depends_on line.
-- depends_on: {{ ref('profile_events') }}
select * from {{ ref('profiles') }}
