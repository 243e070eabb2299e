{{ config(materialized='incremental', unique_key='order_id') }}
{{ fail_if_requested() }}
select order_id, customer_id, status, amount, loaded_at
from {{ ref('stg_orders') }}
{% if is_incremental() %}
where loaded_at > (select max(loaded_at) from {{ this }})
{% endif %}
