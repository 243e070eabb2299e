{#- A plain child of fct_orders (no build_after), so fct_orders does not inherit the windows
    of daily_revenue and customer_revenue. -#}
select status, count(*) as orders, sum(net_amount) as net_amount
from {{ ref('fct_orders') }}
group by 1
