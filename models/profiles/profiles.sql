{{ config(materialized='table') }}
-- One row per profile of the identity graph: its main identifiers, when it was seen, its
-- latest traits, orders, activity and consent. A table rebuilt from profile_events, since a
-- merge in the identity graph changes past aggregates; spend_30d and orders_30d count back
-- from the time of the build.
with ids as (
    select * from {{ ref('identity_map') }}
),

-- The identifier of each type the profile used last (ties: the largest).
main_ids as (
    select
        profile_id,
        arg_max(identifier, row(last_seen_at, identifier)) filter (where identifier_type = 'user_id') as user_id,
        arg_max(identifier, row(last_seen_at, identifier)) filter (where identifier_type = 'email') as email,
        arg_max(identifier, row(last_seen_at, identifier)) filter (where identifier_type = 'phone') as phone,
        count(*) filter (where identifier_type = 'email') as email_count,
        count(*) filter (where identifier_type in ('anonymous_id', 'device_id')) as device_count
    from ids
    group by profile_id
),

events as (
    select * from {{ ref('profile_events') }}
),

activity as (
    select
        profile_id,
        min("timestamp") as first_seen_at,
        max("timestamp") as last_seen_at,
        count(*) as events,
        count(*) filter (where type = 'page') as page_views,
        count(*) filter (where type = 'screen') as screens,
        count(*) filter (where event = 'Order Completed') as total_orders,
        -- Sums of doubles carry binary noise (919.4300000000001) into every sync's payload; six
        -- decimals drop it and keep the minor units of every currency.
        round(coalesce(sum(revenue), 0), 6) as total_spend,
        round(coalesce(sum(revenue) filter (where "timestamp" >= current_timestamp - interval 30 day), 0), 6) as spend_30d,
        count(*) filter (where event = 'Order Completed' and "timestamp" >= current_timestamp - interval 30 day) as orders_30d,
        min("timestamp") filter (where event = 'Order Completed') as first_order_at,
        max("timestamp") filter (where event = 'Order Completed') as last_order_at,
        arg_max(consent_marketing, "timestamp") filter (where consent_marketing is not null) as consent_marketing,
        arg_max(consent_analytics, "timestamp") filter (where consent_analytics is not null) as consent_analytics,
        max("timestamp") filter (where consent_marketing is not null or consent_analytics is not null) as consent_updated_at
    from events
    group by profile_id
),

-- Every trait any event set, one row per profile and key, with the value it was set to last
-- (a null value does not erase an earlier one).
trait_values as (
    select
        e.profile_id,
        e."timestamp",
        e.message_id,
        t.key,
        t.value
    from events e,
        json_each(e.traits) as t
    where e.traits is not null
      and json_type(e.traits) = 'OBJECT'
      and t.type <> 'NULL'
),

latest_traits as (
    select
        profile_id,
        json_group_object(key, value) as traits
    from (
        select
            profile_id,
            key,
            arg_max(value, row("timestamp", message_id)) as value
        from trait_values
        group by profile_id, key
    )
    group by profile_id
)

select
    m.profile_id,
    m.user_id,
    m.email,
    m.phone,
    m.email_count,
    m.device_count,
    a.first_seen_at,
    a.last_seen_at,
    json_extract_string(t.traits, '$.first_name') as first_name,
    json_extract_string(t.traits, '$.last_name') as last_name,
    json_extract_string(t.traits, '$.plan') as plan,
    coalesce(t.traits, json_object()) as traits,
    coalesce(a.total_orders, 0) as total_orders,
    coalesce(a.total_spend, 0) as total_spend,
    coalesce(a.spend_30d, 0) as spend_30d,
    coalesce(a.orders_30d, 0) as orders_30d,
    a.first_order_at,
    a.last_order_at,
    coalesce(a.events, 0) as events,
    coalesce(a.page_views, 0) as page_views,
    coalesce(a.screens, 0) as screens,
    a.consent_marketing,
    a.consent_analytics,
    a.consent_updated_at
from main_ids m
left join activity a on a.profile_id = m.profile_id
left join latest_traits t on t.profile_id = m.profile_id
