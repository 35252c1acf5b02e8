{{ config(materialized='identity') }}
-- The observations identity resolves: one row per event with every identifier it carries.
-- The identity materialization (internal/identity) normalizes them (emails lower-cased and
-- trimmed, phones to E.164), drops blocked placeholders, links the identifiers seen together
-- and builds identity_map(identifier_type, identifier, profile_id, first_seen_at,
-- last_seen_at) by the rules in identity_map.yml.
--
-- previous_id is the id an alias call links to its user_id; identity_map.yml reads it as one
-- more anonymous_id.
select
    message_id,
    "timestamp",
    anonymous_id,
    user_id,
    email,
    phone,
    device_id,
    previous_id
from {{ ref('stg_events') }}
