
select order_id, amount from "main"."stg_orders"