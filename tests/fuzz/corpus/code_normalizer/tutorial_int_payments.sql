{#- Ephemeral: reads the payments source directly, so fct_payments depends on that source
    only through this model. -#}
{{ fail_if_requested() }}
select
    p.id as payment_id,
    p.order_id,
    p.amount,
    m.method_name
from {{ source('shop', 'payments') }} p
left join {{ ref('payment_methods') }} m on m.method = p.method
