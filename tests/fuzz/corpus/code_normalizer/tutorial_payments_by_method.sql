{#- A plain child of fct_payments (no build_after), so fct_payments does not inherit
    customer_revenue's window and rebuilds as soon as payments change. -#}
select method_name, count(*) as payments, sum(amount) as amount
from {{ ref('fct_payments') }}
group by 1
