{# Twin-trial overlay for dbt_jira on DuckDB (not part of dbt_jira, which does not support
   DuckDB). Four root-project overrides; nothing in the packages is changed. #}

{# dbt_jira passes BigQuery-style partition_by dicts, which dbt-duckdb's table
   materialization rejects before ignoring partitioning on non-DuckLake relations anyway. #}
{% macro duckdb__get_partitioned_by(relation, temporary) -%}
  {{ return(none) }}
{%- endmacro %}

{# jira.split_sprint_ids and fivetran_utils.percentile have no DuckDB-compatible default. #}
{% macro duckdb__split_sprint_ids(using_teams, include_story_points=false, include_story_point_estimate=false) %}
    select
        daily_issue_field_history.issue_id,
        daily_issue_field_history.source_relation,
        daily_issue_field_history.date_day,
        daily_issue_field_history.date_week,
        daily_issue_field_history.status,
        {{ "daily_issue_field_history.team," if using_teams }}
        {% if include_story_points %}
        {{ jira.convert_string_to_numeric('daily_issue_field_history.story_points') }} as story_points,
        {% endif %}
        {% if include_story_point_estimate %}
        {{ jira.convert_string_to_numeric('daily_issue_field_history.story_point_estimate') }} as story_point_estimate,
        {% endif %}
        unnest(string_split(sprint, ', ')) as sprint_id
    from daily_issue_field_history
{% endmacro %}

{% macro duckdb__percentile(percentile_field, partition_field, percent) %}
    quantile_cont({{ percentile_field }}, {{ percent }}) over (partition by {{ partition_field }})
{% endmacro %}

{# The twin clock: dbt_jira computes ages, open durations and date spines from
   dbt.current_timestamp(). Read from one table that the trial sets to the same instant in
   both twins at every step, clock-dependent rows built in the same step compare equal, and a
   clock-dependent table reused from an earlier step differs, as it would in production. #}
{% macro duckdb__current_timestamp() -%}
  (select now_ts from "twin_clock"."now")
{%- endmacro %}
