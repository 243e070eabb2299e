{{ config(enabled=var('shape_using_teams', true)) }}
select team, count(*) as issues from {{ ref('stg_shape__issue') }} group by team
