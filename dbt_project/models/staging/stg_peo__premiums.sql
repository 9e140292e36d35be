-- Earned premium per client and coverage month (the latest export wins).
with source as (
    select * from {{ source('peo', 'premiums') }}
),

ranked as (
    select
        client_id,
        coverage_month,
        enrolled_members,
        earned_premium,
        _loaded_at,
        row_number() over (
            partition by client_id, coverage_month order by _loaded_at desc
        ) as row_rank
    from source
)

select
    client_id,
    coverage_month,
    enrolled_members,
    earned_premium,
    _loaded_at
from ranked
where row_rank = 1
