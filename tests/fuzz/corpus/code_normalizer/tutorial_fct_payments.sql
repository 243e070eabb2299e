{{ fail_if_requested() }}
select
    payment_id,
    order_id,
    method_name,
    amount
from {{ ref('int_payments') }}
