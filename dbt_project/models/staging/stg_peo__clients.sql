-- Worksite employers, one row per client (the latest export wins). The HR contact's
-- name and e-mail (pii) are dropped here.
with source as (
    select * from {{ source('peo', 'clients') }}
),

ranked as (
    select
        client_id,
        client_name,
        industry,
        state,
        pay_frequency,
        sales_channel,
        signup_date,
        _loaded_at,
        row_number() over (partition by client_id order by _loaded_at desc) as row_rank
    from source
)

select
    client_id,
    client_name,
    industry,
    state,
    pay_frequency,
    sales_channel,
    signup_date,
    _loaded_at
from ranked
where row_rank = 1
