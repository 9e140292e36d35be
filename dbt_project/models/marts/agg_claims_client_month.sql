-- Claims (PHI) aggregated to client x service month, the only form in which claims
-- leave staging. A cell with fewer than var('min_cell_size') distinct members (default
-- 11) is suppressed: all its measures are null and suppressed is true.
with claims as (
    select * from {{ ref('stg_peo__claims') }}
),

cells as (
    select
        client_id,
        cast({{ dbt.date_trunc('month', 'service_date') }} as date) as service_month,
        count(distinct member_key) as members,
        count(*) as claims,
        {{ exact_sum('paid_amount') }} as paid_amount,
        max(_loaded_at) as available_at
    from claims
    group by client_id, cast({{ dbt.date_trunc('month', 'service_date') }} as date)
),

flagged as (
    select
        client_id,
        service_month,
        members,
        claims,
        paid_amount,
        available_at,
        members < {{ var('min_cell_size', 11) }} as suppressed
    from cells
)

select
    cast(client_id as {{ dbt.type_string() }}) as client_id,
    cast(service_month as date) as service_month,
    cast(case when not suppressed then members end as bigint) as members,
    cast(case when not suppressed then claims end as bigint) as claims,
    cast(case when not suppressed then paid_amount end as double) as paid_amount,
    cast(
        case when not suppressed then paid_amount / members end as double
    ) as paid_per_member,
    cast(suppressed as boolean) as suppressed,
    cast(available_at as {{ type_instant() }}) as available_at
from flagged
