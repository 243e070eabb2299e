{{ fail_if_requested() }}
select
    c.customer_id,
    c.customer_name,
    k.country_name,
    count(o.order_id) as order_count
from {{ ref('stg_customers') }} c
left join {{ ref('countries') }} k on k.country_code = c.country_code
left join {{ ref('stg_orders') }} o on o.customer_id = c.customer_id
group by 1, 2, 3
