-- Operational teams, one in-scope function each (the latest export wins).
with source as (
    select * from {{ source('peo', 'teams') }}
),

ranked as (
    select
        team_id,
        function,
        site,
        agents,
        _loaded_at,
        row_number() over (partition by team_id order by _loaded_at desc) as row_rank
    from source
)

select
    team_id,
    function,
    site,
    agents,
    _loaded_at
from ranked
where row_rank = 1
