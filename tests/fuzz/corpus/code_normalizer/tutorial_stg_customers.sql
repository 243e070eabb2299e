{{ fail_if_requested() }}
select
    id as customer_id,
    name as customer_name,
    country_code
from {{ source('shop', 'customers') }}
