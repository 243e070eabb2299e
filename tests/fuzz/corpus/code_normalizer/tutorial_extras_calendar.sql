-- A package model with no parents at all.
select 1 as day_number, 'Monday' as day_name
union all select 2, 'Tuesday'
union all select 3, 'Wednesday'
