select i.issue_id, i.status, i.team, f.field_name, f.value
from {{ ref('stg_shape__issue') }} as i
left join {{ ref('int_shape__field_latest') }} as f on f.issue_id = i.issue_id
