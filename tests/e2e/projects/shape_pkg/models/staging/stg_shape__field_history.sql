select issue_id, field_name, value, updated_at
from {{ var('shape_field_history') }}
