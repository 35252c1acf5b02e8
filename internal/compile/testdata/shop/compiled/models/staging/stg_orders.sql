

select
    id as order_id,
    customer_id,
    (amount_cents / 100)::numeric(16, 2) as amount,
    status
from "raw_shop"."orders"