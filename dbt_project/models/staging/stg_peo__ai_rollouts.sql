-- AI tools switched on per team (one row per team and tool).
with source as (
    select * from {{ source('peo', 'ai_rollouts') }}
),

ranked as (
    select
        team_id,
        function,
        tool_name,
        rollout_date,
        _loaded_at,
        row_number() over (
            partition by team_id, tool_name order by _loaded_at desc
        ) as row_rank
    from source
)

select
    team_id,
    function,
    tool_name,
    rollout_date,
    _loaded_at
from ranked
where row_rank = 1
