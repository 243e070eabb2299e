{#- Hooks that let end-to-end tests steer the tutorial without editing it. -#}

{#- Raises an error while running a model named in var `orc_fail` (a name or a list of
    names), so tests can make a chosen node fail: --vars '{orc_fail: [fct_orders]}'. -#}
{% macro fail_if_requested() %}
  {% set wanted = var('orc_fail', []) %}
  {% if wanted is string %}{% set wanted = wanted.split(',') %}{% endif %}
  {% if execute and model.name in wanted %}
    {{ exceptions.raise_compiler_error('orc_tutorial: ' ~ model.name ~ ' fails on request (var orc_fail)') }}
  {% endif %}
{% endmacro %}

{#- Prints its argument and var `msg`, so tests can check that quoting survives. -#}
{% macro echo(msg='') %}
  {{ log('echo arg: [' ~ msg ~ ']', info=True) }}
  {{ log('echo var: [' ~ var('msg', '') ~ ']', info=True) }}
{% endmacro %}
