-- Agent hours per week with their loaded hourly cost, and the week's loaded labour
-- cost.
with source as (
    select * from {{ source('peo', 'timesheets') }}
),

ranked as (
    select
        agent_id,
        team_id,
        week_start,
        hours,
        loaded_hourly_cost,
        _loaded_at,
        row_number() over (
            partition by agent_id, week_start order by _loaded_at desc
        ) as row_rank
    from source
)

select
    agent_id,
    team_id,
    week_start,
    hours,
    loaded_hourly_cost,
    hours * loaded_hourly_cost as labor_cost,
    _loaded_at
from ranked
where row_rank = 1
