select
    o.order_id,
    o.customer_id,
    o.status as legacy_status,
    sum(p.amount) as amount
from {{ ref('stg_orders') }} as o
left join {{ ref('stg_payments') }} as p using (order_id)
group by 1, 2, 3
