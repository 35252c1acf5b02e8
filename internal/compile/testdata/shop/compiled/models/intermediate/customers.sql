
select distinct customer_id from "main"."stg_orders"