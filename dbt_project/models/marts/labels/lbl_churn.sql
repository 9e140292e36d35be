-- Churn labels: one row per client and complete month F of the feature spine, scored
-- at score_ts = the first instant after F (00:00 UTC of the next month's first day).
-- churned is true when the client terminated mid-term (contracts.outcome =
-- 'terminated_midterm') with outcome_date in the horizon [score date, score date + 3
-- months). Left out: months whose horizon contains a renewal date of the client (a loss
-- there is a renewal decision, not churn), clients already gone at the score date, and
-- horizons that end after the last day with data (their outcome is not known yet).
with spine as (
    select * from {{ ref('int_client_months') }}
),

contracts as (
    select * from {{ ref('stg_peo__contracts') }}
),

data_window as (
    select * from {{ ref('int_data_window') }}
),

scored as (
    select
        s.client_id,
        s.month,
        cast({{ dbt.dateadd('month', 1, 's.month') }} as date) as score_date,
        cast({{ dbt.dateadd('month', 4, 's.month') }} as date) as horizon_end
    from spine as s
),

client_end as (
    select
        client_id,
        min(outcome_date) as gone_date,
        min(case when outcome = 'terminated_midterm' then outcome_date end)
            as terminated_date,
        max(_loaded_at) as _loaded_at
    from contracts
    where outcome in ('terminated_midterm', 'lost_at_renewal')
    group by client_id
),

renewal_in_horizon as (
    select distinct
        sc.client_id,
        sc.month
    from scored as sc
    inner join contracts as k
        on sc.client_id = k.client_id
        and k.renewal_date >= sc.score_date
        and k.renewal_date < sc.horizon_end
)

select
    cast(sc.client_id as {{ dbt.type_string() }}) as client_id,
    cast(sc.month as date) as feature_month,
    cast({{ utc_instant('sc.score_date') }} as {{ type_instant() }}) as score_ts,
    cast(sc.horizon_end as date) as horizon_end,
    cast(
        coalesce(
            ce.terminated_date >= sc.score_date and ce.terminated_date < sc.horizon_end,
            false
        ) as boolean
    ) as churned,
    cast(
        case
            when ce.terminated_date >= sc.score_date
                and ce.terminated_date < sc.horizon_end
                then ce.terminated_date
        end as date
    ) as outcome_date,
    cast(
        {{ utc_instant('sc.horizon_end') }} as {{ type_instant() }}
    ) as label_available_at
from scored as sc
cross join data_window as dw
left join client_end as ce on sc.client_id = ce.client_id
left join renewal_in_horizon as rh
    on sc.client_id = rh.client_id and sc.month = rh.month
where rh.client_id is null
    and (ce.gone_date is null or ce.gone_date >= sc.score_date)
    and sc.horizon_end <= {{ dbt.dateadd('day', 1, 'dw.last_day') }}
