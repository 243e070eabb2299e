{{ fail_if_requested() }}
select
    id as page_view_id,
    customer_id,
    url,
    viewed_at
from {{ source('web', 'page_views') }}
