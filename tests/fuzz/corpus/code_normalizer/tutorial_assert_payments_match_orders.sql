-- Singular test over two models: every payment belongs to a known order.
select p.payment_id
from {{ ref('fct_payments') }} p
left join {{ ref('fct_orders') }} o on o.order_id = p.order_id
where o.order_id is null
