select * from {{ ref('customer_orders') }} where lifetime_value < 0
