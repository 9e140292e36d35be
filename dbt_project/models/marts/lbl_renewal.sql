-- Renewal labels: one row per contract whose renewal decision fell inside the data
-- window (first day of the window <= renewal_date <= last day with data) with a
-- decision: renewed -> true, lost_at_renewal -> false. Terms terminated mid-term and
-- terms still active are excluded. A label is scored 90 days before renewal, at 00:00
-- UTC.
with contracts as (
    select * from {{ ref('stg_peo__contracts') }}
),

data_window as (
    select * from {{ ref('int_data_window') }}
),

decided as (
    select
        c.contract_id,
        c.client_id,
        c.term_start,
        c.renewal_date,
        c.offer_date,
        c.offered_rate_change,
        c.admin_fee_pepm,
        c.outcome,
        c.outcome_date,
        c._loaded_at
    from contracts as c
    cross join data_window as dw
    where c.outcome in ('renewed', 'lost_at_renewal')
        and c.renewal_date >= dw.first_day
        and c.renewal_date <= dw.last_day
)

select
    cast(contract_id as {{ dbt.type_string() }}) as contract_id,
    cast(client_id as {{ dbt.type_string() }}) as client_id,
    cast(term_start as date) as term_start,
    cast(renewal_date as date) as renewal_date,
    cast(
        {{ utc_instant(dbt.dateadd('day', -90, 'renewal_date')) }}
        as {{ type_instant() }}
    )
        as score_ts,
    cast(offer_date as date) as offer_date,
    cast(offered_rate_change as double) as offered_rate_change,
    cast(admin_fee_pepm as double) as admin_fee_pepm,
    cast(outcome = 'renewed' as boolean) as renewed,
    cast(outcome as {{ dbt.type_string() }}) as outcome,
    cast(coalesce(outcome_date, renewal_date) as date) as outcome_date,
    cast(_loaded_at as {{ type_instant() }}) as label_available_at
from decided
