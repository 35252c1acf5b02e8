
with __cdp_ephemeral__customers as (
select distinct customer_id from "main"."stg_orders"
), c as (select * from __cdp_ephemeral__customers)
select o.*, c.customer_id is not null as known
from "main"."stg_orders" o left join c using (customer_id)

where o.order_id > (select max(order_id) from "main"."orders_v2")
