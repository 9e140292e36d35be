-- The client's payroll-exception history before each of its runs (one tenant's rows
-- each): first revisions of the same client paid strictly before this run's pay date.
-- Exception counts never change in later revisions, and every earlier first revision
-- arrived two days before its own pay date, so at event_ts (this run's pay date, 00:00
-- UTC) all of them are known: available_at = event_ts.
with runs as (
    select run_id, client_id, pay_date, exception_count
    from {{ ref('stg_peo__payroll_runs') }}
    where revision = 1
),

history as (
    select
        r.run_id,
        r.client_id,
        r.pay_date,
        count(p.run_id) as prior_runs,
        count(case when p.exception_count > 0 then 1 end) as prior_exception_runs,
        count(
            case when p.pay_date >= {{ dbt.dateadd('day', -365, 'r.pay_date') }} then 1 end
        ) as prior_runs_12m,
        count(
            case
                when p.pay_date >= {{ dbt.dateadd('day', -365, 'r.pay_date') }}
                    and p.exception_count > 0
                    then 1
            end
        ) as prior_exception_runs_12m
    from runs as r
    left join runs as p
        on r.client_id = p.client_id
        and p.pay_date < r.pay_date
    group by r.run_id, r.client_id, r.pay_date
)

select
    cast(run_id as {{ dbt.type_string() }}) as run_id,
    cast(client_id as {{ dbt.type_string() }}) as client_id,
    cast({{ utc_instant('pay_date') }} as {{ type_instant() }}) as event_ts,
    cast({{ utc_instant('pay_date') }} as {{ type_instant() }}) as available_at,
    cast(prior_runs as bigint) as prior_runs,
    cast(prior_exception_runs as bigint) as prior_exception_runs,
    cast(prior_runs_12m as bigint) as prior_runs_12m,
    cast(prior_exception_runs_12m as bigint) as prior_exception_runs_12m
from history
