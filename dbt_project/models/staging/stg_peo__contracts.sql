-- Client service terms, one row per contract (the latest export wins).
with source as (
    select * from {{ source('peo', 'contracts') }}
),

ranked as (
    select
        contract_id,
        client_id,
        term_start,
        renewal_date,
        admin_fee_pepm,
        offer_date,
        offered_rate_change,
        outcome,
        outcome_date,
        _loaded_at,
        row_number() over (
            partition by contract_id order by _loaded_at desc
        ) as row_rank
    from source
)

select
    contract_id,
    client_id,
    term_start,
    renewal_date,
    admin_fee_pepm,
    offer_date,
    offered_rate_change,
    outcome,
    outcome_date,
    _loaded_at
from ranked
where row_rank = 1
