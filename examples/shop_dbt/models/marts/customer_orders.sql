{% set statuses = ['completed', 'returned'] %}

select
    c.customer_id,
    c.email,
    {% for s in statuses %}
    count(*) filter (where o.status = '{{ s }}') as {{ s }}_orders,
    {% endfor %}
    coalesce(sum(o.amount) filter (where o.status = 'completed'), 0) as lifetime_value
from {{ ref('stg_customers') }} c
left join {{ ref('stg_orders') }} o using (customer_id)
group by 1, 2
