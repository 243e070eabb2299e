{% macro clean_status(column) %}
  {{ return(adapter.dispatch('clean_status', 'shape_pkg')(column)) }}
{% endmacro %}

{% macro default__clean_status(column) %}
  upper({{ column }})
{% endmacro %}
