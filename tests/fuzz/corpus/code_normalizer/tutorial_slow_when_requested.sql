{#- Instant, unless var orc_slow_rows is set on DuckDB: then it hashes that many numbers,
    which keeps dbt busy long enough for tests to interrupt a run midway. -#}
select count(*) as orders
from {{ ref('stg_orders') }}
{% if var('orc_slow_rows', 0) | int > 0 and target.type == 'duckdb' %}
cross join (select sum(hash(i)) as h from range({{ var('orc_slow_rows') | int }}) t(i)) as slow
{% endif %}
