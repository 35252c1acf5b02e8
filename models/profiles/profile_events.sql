{{ config(materialized='table') }}
{%- set identity_map = ref('identity_map') %}
-- Every event with the profile it belongs to. A table, rebuilt whenever events or the identity
-- graph change: a merge of two profiles moves their past events too, which an incremental
-- model would miss.
--
-- An event belongs to the profile of its strongest identifier, in identity's priority order
-- (user_id > email > phone > device_id > anonymous_id, see identity_map.yml). The identity
-- materialization records exactly that in identity_map_events (event_id, profile_id), using
-- the identifiers as it normalized them (emails trimmed and lower-cased, phones in E.164 read
-- with the default country), so this model joins on the event id rather than re-normalizing
-- identifiers: joining stg_events to identity_map by priority would have to repeat identity's
-- phone normalization to get national numbers right. identity_map_events is written in the
-- same commit as identity_map, so the ref keeps them in step.
--
-- Events whose every identifier is blocked (placeholders such as "anonymous") or invalid belong
-- to no one and are left out.
select
    ie.profile_id,
    e.message_id,
    e.event_name as event,
    e.type,
    e."timestamp",
    e.properties,
    e.traits,
    e.user_id,
    e.anonymous_id,
    e.email,
    e.phone,
    e.device_id,
    e.order_id,
    e.revenue,
    e.currency,
    e.consent_marketing,
    e.consent_analytics,
    e.page_path,
    e.loaded_at
from {{ ref('stg_events') }} e
join {{ identity_map.schema }}.{{ identity_map.identifier }}_events ie
    on ie.event_id = e.message_id
