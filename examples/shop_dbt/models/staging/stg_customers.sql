select
    id as customer_id,
    first_name,
    last_name,
    lower(trim(email)) as email
from {{ ref('customers') }}
