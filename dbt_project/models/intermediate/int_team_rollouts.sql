-- When each team first had AI tooling (its earliest tool), and the first week and month
-- counted as treated:
-- - first_ai_week: the first Monday on or after the rollout date, so that a week is
--   treated when rollout_date <= week_start (the tool was on for the whole week);
-- - first_ai_month: the month of the rollout date (truncated), so that the rollout
--   month itself counts as treated even when the tool arrived mid-month.
with rollouts as (
    select * from {{ ref('stg_peo__ai_rollouts') }}
),

teams as (
    select
        team_id,
        min(rollout_date) as first_rollout_date,
        count(*) as tools,
        max(_loaded_at) as _loaded_at
    from rollouts
    group by team_id
)

select
    team_id,
    first_rollout_date,
    cast(
        {{ dbt.date_trunc('week', dbt.dateadd('day', 6, 'first_rollout_date')) }}
        as date
    ) as first_ai_week,
    cast({{ dbt.date_trunc('month', 'first_rollout_date') }} as date) as first_ai_month,
    tools,
    _loaded_at
from teams
