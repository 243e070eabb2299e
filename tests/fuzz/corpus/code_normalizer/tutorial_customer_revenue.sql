{#- Rebuilt at most once an hour, and only when all of its parents have new data. -#}
{{ fail_if_requested() }}
select
    c.customer_id,
    c.customer_name,
    c.order_count,
    coalesce(sum(p.amount), 0) as paid
from {{ ref('dim_customers') }} c
left join {{ ref('fct_orders') }} o on o.customer_id = c.customer_id
left join {{ ref('fct_payments') }} p on p.order_id = o.order_id
group by 1, 2, 3
