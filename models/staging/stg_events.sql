{{ config(
    materialized='incremental',
    unique_key='message_id',
    on_schema_change='append_new_columns'
) }}
-- One row per Segment call, typed, with the identifiers identity resolves and the fields
-- profiles and audiences read. Incremental on loaded_at: each run reads only the loads made
-- since the last one, and a message_id seen again replaces its row (merge on unique_key).
--
-- Identifiers are extracted as sent (blank strings become NULL); normalizing them (lower-case
-- emails, E.164 phones) and blocking placeholders is the identity model's job.
with src as (
    select *
    from {{ source('raw', 'events') }}
    where message_id is not null
    {% if is_incremental() %}
      and loaded_at > (select coalesce(max(loaded_at), TIMESTAMPTZ '1970-01-01 00:00:00+00') from {{ this }})
    {% endif %}
),

-- A client retry that reached two loads is one event: keep its first load.
deduped as (
    select *
    from src
    qualify row_number() over (partition by message_id order by loaded_at, source_file, source_line) = 1
),

extracted as (
    select
        *,
        -- The person's traits: an identify call's own; other calls carry them in context.traits
        -- (a group call's own traits describe the group, a company, not the person).
        case
            when type = 'identify' then coalesce(traits, json_extract(context, '$.traits'))
            else json_extract(context, '$.traits')
        end as person_traits
    from deduped
)

select
    message_id,
    type,
    -- The event's name for every type: a track call's event, else "Page Viewed",
    -- "Screen Viewed", "Identify", "Group" or "Alias".
    case type
        when 'track' then event
        when 'page' then 'Page Viewed'
        when 'screen' then 'Screen Viewed'
        when 'identify' then 'Identify'
        when 'group' then 'Group'
        when 'alias' then 'Alias'
    end as event_name,
    event,
    name,
    "timestamp",
    original_timestamp,
    sent_at,
    received_at,

    -- Identifiers.
    user_id,
    anonymous_id,
    previous_id,
    group_id,
    nullif(trim(json_extract_string(person_traits, '$.email')), '') as email,
    nullif(trim(json_extract_string(person_traits, '$.phone')), '') as phone,
    nullif(trim(json_extract_string(context, '$.device.id')), '') as device_id,

    -- Context.
    json_extract_string(context, '$.ip') as ip,
    json_extract_string(context, '$.userAgent') as user_agent,
    json_extract_string(context, '$.locale') as locale,
    json_extract_string(context, '$.timezone') as timezone,
    json_extract_string(context, '$.library.name') as library_name,
    json_extract_string(context, '$.device.type') as device_type,
    json_extract_string(context, '$.os.name') as os_name,
    json_extract_string(context, '$.app.version') as app_version,
    coalesce(json_extract_string(context, '$.page.path'), case when type = 'page' then json_extract_string(properties, '$.path') end) as page_path,
    coalesce(json_extract_string(context, '$.page.url'), case when type = 'page' then json_extract_string(properties, '$.url') end) as page_url,
    nullif(coalesce(json_extract_string(context, '$.page.referrer'), case when type = 'page' then json_extract_string(properties, '$.referrer') end), '') as referrer,

    -- Orders: order_id wherever the event has one (Checkout Started too); money only for
    -- Order Completed, so sums of revenue are sums of orders.
    json_extract_string(properties, '$.order_id') as order_id,
    case when event = 'Order Completed' then try_cast(json_extract_string(properties, '$.revenue') as double) end as revenue,
    case when event = 'Order Completed' then json_extract_string(properties, '$.currency') end as currency,
    case when event = 'Order Completed' then json_array_length(json_extract(properties, '$.products')) end as product_count,

    -- Consent as the call states it (NULL when it says nothing): traits.consent.* as identify
    -- sends it, or Segment's consent object context.consent.categoryPreferences.*.
    coalesce(
        try_cast(json_extract_string(person_traits, '$.consent.marketing') as boolean),
        try_cast(json_extract_string(context, '$.consent.categoryPreferences.marketing') as boolean)
    ) as consent_marketing,
    coalesce(
        try_cast(json_extract_string(person_traits, '$.consent.analytics') as boolean),
        try_cast(json_extract_string(context, '$.consent.categoryPreferences.analytics') as boolean)
    ) as consent_analytics,

    person_traits as traits,
    properties,
    source_file,
    source_line,
    load_id,
    loaded_at
from extracted
