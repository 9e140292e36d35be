-- Completed work items per team, day and item type, and their quality-gated part
-- (completed minus reworked): the productivity units (PUs) of the day.
with source as (
    select * from {{ source('peo', 'work_items') }}
),

ranked as (
    select
        team_id,
        function,
        work_date,
        item_type,
        completed,
        reworked,
        _loaded_at,
        row_number() over (
            partition by team_id, work_date, item_type order by _loaded_at desc
        ) as row_rank
    from source
)

select
    team_id,
    function,
    work_date,
    item_type,
    completed,
    reworked,
    completed - reworked as pu,
    _loaded_at
from ranked
where row_rank = 1
