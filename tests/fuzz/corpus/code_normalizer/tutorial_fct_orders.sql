{{ fail_if_requested() }}
select
    order_id,
    customer_id,
    status,
    ordered_at,
    amount,
    case when status = 'returned' then 0 else amount end as net_amount
from {{ ref('stg_orders') }}
