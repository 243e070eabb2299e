-- The latest value per issue (and per field unless the grain var says otherwise).
select issue_id, field_name, value, updated_at
from (
    select *, row_number() over (
        partition by issue_id{% if var('shape_field_grain') == 'field_name' %}, field_name{% endif %}
        order by updated_at desc, field_name) as rn
    from {{ ref('stg_shape__field_history') }}
) latest
where rn = 1
