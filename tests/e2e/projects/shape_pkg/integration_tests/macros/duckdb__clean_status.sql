{% macro duckdb__clean_status(column) %}
  lower(trim({{ column }}))
{% endmacro %}
