-- Service-centre contacts without the caller's e-mail (pii), with the UTC date opened.
with source as (
    select * from {{ source('peo', 'contacts') }}
),

ranked as (
    select
        contact_id,
        client_id,
        queue,
        channel,
        category,
        opened_at,
        {{ utc_date('opened_at') }} as opened_date,
        wait_seconds,
        handle_seconds,
        abandoned,
        resolved,
        reopened,
        team_id,
        _loaded_at,
        row_number() over (partition by contact_id order by _loaded_at desc) as row_rank
    from source
)

select
    contact_id,
    client_id,
    queue,
    channel,
    category,
    opened_at,
    opened_date,
    wait_seconds,
    handle_seconds,
    abandoned,
    resolved,
    reopened,
    team_id,
    _loaded_at
from ranked
where row_rank = 1
