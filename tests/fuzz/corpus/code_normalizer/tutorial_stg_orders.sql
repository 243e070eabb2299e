{{ fail_if_requested() }}
select
    id as order_id,
    customer_id,
    amount,
    status,
    ordered_at,
    loaded_at
from {{ source('shop', 'orders') }}
