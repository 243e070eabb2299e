select id as issue_id, {{ shape_pkg.clean_status('status') }} as status, team, updated_at
from {{ var('shape_issue') }}
