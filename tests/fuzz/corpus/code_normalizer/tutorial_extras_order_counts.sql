-- A package model that depends on a source of the package.
select customer_id, count(*) as orders
from {{ source('extras_shop', 'orders') }}
group by 1
