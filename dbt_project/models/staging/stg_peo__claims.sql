-- Paid medical claims (PHI). member_id survives only as a keyed hash (member_key).
-- These rows never leave staging: downstream models read them aggregated to client-
-- month.
with source as (
    select * from {{ source('peo', 'claims') }}
),

ranked as (
    select
        claim_id,
        client_id,
        {{ keyed_hash('member_id') }} as member_key,
        service_date,
        paid_date,
        claim_type,
        paid_amount,
        _loaded_at,
        row_number() over (partition by claim_id order by _loaded_at desc) as row_rank
    from source
)

select
    claim_id,
    client_id,
    member_key,
    service_date,
    paid_date,
    claim_type,
    paid_amount,
    _loaded_at
from ranked
where row_rank = 1
