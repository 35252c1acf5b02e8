with orders as (
    select * from {{ ref('orders') }}
)
select
    c.customer_id,
    c.first_name,
    sum(o.amount) as lifetime_value
from {{ ref('stg_customers') }} as c
left join orders as o using (customer_id)
group by 1, 2
