{#- Rebuilt at most once an hour, whenever any parent has new data. -#}
{{ config(freshness={'build_after': {'count': 1, 'period': 'hour', 'updates_on': 'any'}}) }}
{{ fail_if_requested() }}
select ordered_at, sum(net_amount) as revenue
from {{ ref('fct_orders') }}
group by 1
