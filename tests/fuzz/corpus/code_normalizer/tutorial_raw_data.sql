{#-
  Raw source data for the tutorial, created in the schema `<target schema>_raw` with SQL that
  runs on DuckDB and PostgreSQL alike.

    dbt run-operation setup_raw                          -- (re)create every raw table
    dbt run-operation add_raw_rows --args '{table: orders}'   -- append rows loaded "now"

  orders and payments carry `loaded_at` as timestamp with time zone; customers carries a naive
  timestamp holding UTC (both shapes occur in real warehouses); page_views has no loaded_at.
-#}

{% macro raw_schema() -%}
  {{ target.schema }}_raw
{%- endmacro %}

{% macro raw_relation(table) -%}
  {{ adapter.quote(raw_schema()) }}.{{ adapter.quote(table) }}
{%- endmacro %}

{#- Current time as a naive timestamp in UTC. -#}
{% macro utc_now_naive() -%}
  {{ return(adapter.dispatch('utc_now_naive')()) }}
{%- endmacro %}

{% macro default__utc_now_naive() -%}
  (current_timestamp at time zone 'UTC')
{%- endmacro %}

{% macro setup_raw() %}
  {% set s = raw_schema() %}
  {% do run_query('create schema if not exists ' ~ adapter.quote(s)) %}
  {% for t in ['orders', 'customers', 'payments', 'page_views'] %}
    {#- cascade: on PostgreSQL the staging views depend on the raw tables -#}
    {% do run_query('drop table if exists ' ~ raw_relation(t) ~ ' cascade') %}
  {% endfor %}

  {% do run_query('create table ' ~ raw_relation('customers') ~ ' (
      id integer, name varchar(100), country_code varchar(2), loaded_at timestamp)') %}
  {% do run_query('insert into ' ~ raw_relation('customers') ~ " values
      (1, 'Ada', 'GB', " ~ utc_now_naive() ~ " - interval '2 hour'),
      (2, 'Grace', 'US', " ~ utc_now_naive() ~ " - interval '2 hour'),
      (3, 'Linus', 'FI', " ~ utc_now_naive() ~ " - interval '2 hour')") %}

  {% do run_query('create table ' ~ raw_relation('orders') ~ ' (
      id integer, customer_id integer, amount numeric(10, 2), status varchar(20),
      ordered_at date, loaded_at timestamp with time zone)') %}
  {% do run_query('insert into ' ~ raw_relation('orders') ~ " values
      (1, 1, 10.00, 'completed', date '2024-01-01', current_timestamp - interval '2 hour'),
      (2, 1, 25.50, 'completed', date '2024-01-02', current_timestamp - interval '2 hour'),
      (3, 2, 7.25, 'returned', date '2024-01-02', current_timestamp - interval '2 hour'),
      (4, 3, 99.99, 'placed', date '2024-01-03', current_timestamp - interval '2 hour')") %}

  {% do run_query('create table ' ~ raw_relation('payments') ~ ' (
      id integer, order_id integer, method varchar(20), amount numeric(10, 2),
      loaded_at timestamp with time zone)') %}
  {% do run_query('insert into ' ~ raw_relation('payments') ~ " values
      (1, 1, 'card', 10.00, current_timestamp - interval '2 hour'),
      (2, 2, 'card', 25.50, current_timestamp - interval '2 hour'),
      (3, 3, 'voucher', 7.25, current_timestamp - interval '2 hour')") %}

  {% do run_query('create table ' ~ raw_relation('page_views') ~ ' (
      id integer, customer_id integer, url varchar(200), viewed_at date)') %}
  {% do run_query('insert into ' ~ raw_relation('page_views') ~ " values
      (1, 1, '/', date '2024-01-01'),
      (2, 2, '/pricing', date '2024-01-01'),
      (3, 2, '/signup', date '2024-01-02')") %}

  {{ log('orc_tutorial: raw tables created in schema ' ~ s, info=True) }}
{% endmacro %}

{#- Appends `count` new rows (default 1) to one raw table, loaded now. -#}
{% macro add_raw_rows(table, count=1) %}
  {% set rel = raw_relation(table) %}
  {% for i in range(count | int) %}
    {% set next_id = '(select coalesce(max(id), 0) + 1 from ' ~ rel ~ ')' %}
    {% if table == 'orders' %}
      {% set values = next_id ~ ", 1, 5.00, 'placed', date '2024-02-01', current_timestamp" %}
    {% elif table == 'payments' %}
      {% set values = next_id ~ ", 1, 'card', 1.00, current_timestamp" %}
    {% elif table == 'customers' %}
      {% set values = next_id ~ ", 'New customer', 'GB', " ~ utc_now_naive() %}
    {% elif table == 'page_views' %}
      {% set values = next_id ~ ", 1, '/new', date '2024-02-01'" %}
    {% else %}
      {{ exceptions.raise_compiler_error("add_raw_rows: unknown table '" ~ table ~ "' (orders, payments, customers, page_views)") }}
    {% endif %}
    {% do run_query('insert into ' ~ rel ~ ' select ' ~ values) %}
  {% endfor %}
  {{ log('orc_tutorial: added ' ~ count ~ ' row(s) to ' ~ rel, info=True) }}
{% endmacro %}
