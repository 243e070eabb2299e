{#- A plain child of dim_customers (no build_after), so dim_customers does not inherit
    customer_revenue's window. -#}
select country_name, count(*) as customers
from {{ ref('dim_customers') }}
group by 1
