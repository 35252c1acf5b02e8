-- Every order's amount is the sum of its payments.
select order_id
from {{ ref('orders') }}
where amount < 0
