{{ config(materialized='audience') }}
-- Cart abandoners: added a product or started a checkout in the last 7 days and placed no order
-- since. An audience written in SQL: the SELECT returns the members (profile_id and the
-- columns a sync sends); the audience materialization keeps their history.
with carts as (
    select
        profile_id,
        max("timestamp") as last_cart_at,
        count(*) filter (where event = 'Product Added') as products_added,
        bool_or(event = 'Checkout Started') as started_checkout
    from {{ ref('profile_events') }}
    where event in ('Product Added', 'Checkout Started')
      and "timestamp" >= current_timestamp - interval 7 day
      and "timestamp" <= current_timestamp
    group by profile_id
),

last_orders as (
    select profile_id, max("timestamp") as last_order_at
    from {{ ref('profile_events') }}
    where event = 'Order Completed'
    group by profile_id
)

select
    p.profile_id,
    p.email,
    p.first_name,
    p.consent_marketing,
    c.last_cart_at,
    c.products_added,
    c.started_checkout
from carts c
join {{ ref('profiles') }} p on p.profile_id = c.profile_id
left join last_orders o on o.profile_id = c.profile_id
where o.last_order_at is null
   or o.last_order_at < c.last_cart_at
