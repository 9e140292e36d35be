-- Claims aggregated to client x service month x paid month (PHI aggregated): the unit
-- from which the MLR features read paid claims as known at a month's end. Member counts
-- are not additive across paid months and are left to marts.agg_claims_client_month.
with claims as (
    select * from {{ ref('stg_peo__claims') }}
)

select
    client_id,
    cast({{ dbt.date_trunc('month', 'service_date') }} as date) as service_month,
    cast({{ dbt.date_trunc('month', 'paid_date') }} as date) as paid_month,
    count(*) as claims,
    {{ exact_sum('paid_amount') }} as paid_amount,
    max(_loaded_at) as _loaded_at
from claims
group by
    client_id,
    cast({{ dbt.date_trunc('month', 'service_date') }} as date),
    cast({{ dbt.date_trunc('month', 'paid_date') }} as date)
