{{ config(materialized='table') }}
-- Every event with the profile it belongs to. A table, rebuilt whenever events or the identity
-- graph change: a merge of two profiles moves their past events too, which an incremental
-- model would miss.
--
-- An event belongs to the profile of its strongest identifier that identity_map knows, in
-- identity's priority order: user_id > email > phone > device_id > anonymous_id. Identifiers
-- are matched the way identity stores them:
--   * email trimmed (of any whitespace) and lower-cased, as identity normalizes it;
--   * phone: identity stores E.164, which needs a country for national numbers ("(415)
--     555-0134"). A phone written internationally ("+1 415-555-0134", "0044 7700 900123") is
--     normalized here exactly: "+" and its digits. A national one cannot be, so it comes last:
--     the event resolves through its device_id or anonymous_id first (every call carries
--     one), and only an event known by nothing else matches a phone in identity_map whose
--     digits end with the national number's (leading zeros dropped, at least 7 digits).
-- Identifiers identity blocked (placeholders, shared test emails) are not in identity_map, so
-- they match nothing; an event with no known identifier belongs to no one and is left out.
with digits as (
    select
        *,
        lower(regexp_replace(email, '^\s+|\s+$', '', 'g')) as email_normalized,
        regexp_replace(phone, '[^0-9]', '', 'g') as phone_digits
    from {{ ref('stg_events') }}
),

events as (
    select
        *,
        case
            when phone like '+%' then '+' || phone_digits
            when phone_digits like '00%' then '+' || substr(phone_digits, 3)
        end as phone_e164
    from digits
),

ids as (
    select identifier_type, identifier, profile_id
    from {{ ref('identity_map') }}
),

matched as (
    select
        e.*,
        coalesce(
            by_user.profile_id,
            by_email.profile_id,
            by_phone.profile_id,
            by_device.profile_id,
            by_anon.profile_id
        ) as matched_profile_id
    from events e
    left join ids by_user on by_user.identifier_type = 'user_id' and by_user.identifier = e.user_id
    left join ids by_email on by_email.identifier_type = 'email' and by_email.identifier = e.email_normalized
    left join ids by_phone on by_phone.identifier_type = 'phone' and by_phone.identifier = e.phone_e164
    left join ids by_device on by_device.identifier_type = 'device_id' and by_device.identifier = e.device_id
    left join ids by_anon on by_anon.identifier_type = 'anonymous_id' and by_anon.identifier = e.anonymous_id
),

-- The last resort for the few events known only by a national phone number.
by_national_phone as (
    select m.message_id, min(ids.profile_id) as profile_id
    from matched m
    join ids on ids.identifier_type = 'phone'
        and ids.identifier like '%' || ltrim(m.phone_digits, '0')
    where m.matched_profile_id is null
      and m.phone_e164 is null
      and length(ltrim(m.phone_digits, '0')) >= 7
    group by m.message_id
    having count(distinct ids.profile_id) = 1
)

select
    coalesce(m.matched_profile_id, np.profile_id) as profile_id,
    m.message_id,
    m.event_name as event,
    m.type,
    m."timestamp",
    m.properties,
    m.traits,
    m.user_id,
    m.anonymous_id,
    m.email,
    m.phone,
    m.device_id,
    m.order_id,
    m.revenue,
    m.currency,
    m.consent_marketing,
    m.consent_analytics,
    m.page_path,
    m.loaded_at
from matched m
left join by_national_phone np on np.message_id = m.message_id
where coalesce(m.matched_profile_id, np.profile_id) is not null
