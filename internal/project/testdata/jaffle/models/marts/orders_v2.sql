select
    o.order_id,
    o.customer_id,
    o.order_date,
    sum(p.amount) * 100 as amount_cents
from {{ ref('stg_orders') }} as o
left join {{ ref('stg_payments') }} as p using (order_id)
group by 1, 2, 3
