-- Weekly timesheet hours and labour cost allocated to calendar months by working days:
-- a week's hours are spread evenly over its five weekdays (Monday to Friday) and each
-- weekday falls in its own month, so a week straddling two months is split 3/5 and 2/5,
-- say. Holidays are not taken out (they are rare and fall on weekdays in every month
-- alike).
with timesheets as (
    select * from {{ ref('stg_peo__timesheets') }}
),

weekdays as (
    select 0 as day_offset
    union all select 1
    union all select 2
    union all select 3
    union all select 4
),

days as (
    select
        t.team_id,
        t.agent_id,
        cast(
            {{ dbt.dateadd('day', 'w.day_offset', 't.week_start') }} as date
        ) as work_day,
        t.hours / 5.0 as hours,
        t.labor_cost / 5.0 as labor_cost,
        t._loaded_at
    from timesheets as t
    cross join weekdays as w
)

select
    team_id,
    cast({{ dbt.date_trunc('month', 'work_day') }} as date) as month,
    {{ exact_sum('hours') }} as hours,
    {{ exact_sum('labor_cost') }} as labor_cost,
    count(distinct case when hours > 0 then agent_id end) as agents,
    max(_loaded_at) as _loaded_at
from days
group by team_id, cast({{ dbt.date_trunc('month', 'work_day') }} as date)
