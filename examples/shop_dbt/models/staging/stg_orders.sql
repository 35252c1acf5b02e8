{{ config(materialized='incremental', unique_key='order_id') }}

select
    id as order_id,
    customer_id,
    cast(ordered_at as timestamp) as ordered_at,
    status,
    {{ cents_to_dollars('amount_cents') }} as amount
from {{ ref('orders') }}
where amount_cents >= {{ var('min_order_amount') }}
{% if is_incremental() %}
  and cast(ordered_at as timestamp) > (select max(ordered_at) from {{ this }})
{% endif %}
