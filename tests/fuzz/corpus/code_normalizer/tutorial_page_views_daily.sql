{{ fail_if_requested() }}
select viewed_at, count(*) as page_views
from {{ ref('stg_page_views') }}
group by 1
