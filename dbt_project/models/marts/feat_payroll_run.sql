-- Payroll-exception features per run and revision (one tenant's rows each). event_ts is
-- the pay date at 00:00 UTC; available_at is when that revision arrived (_loaded_at).
-- new_hires_in_period counts the client's employees hired within the pay period.
with runs as (
    select * from {{ ref('stg_peo__payroll_runs') }}
),

clients as (
    select * from {{ ref('stg_peo__clients') }}
),

hires as (
    select
        r.run_id,
        r.revision,
        count(e.employee_key) as new_hires_in_period
    from runs as r
    left join {{ ref('stg_peo__employees') }} as e
        on r.client_id = e.client_id
        and e.hire_date >= r.period_start
        and e.hire_date <= r.period_end
    group by r.run_id, r.revision
),

latest as (
    select run_id, max(revision) as latest_revision
    from runs
    group by run_id
)

select
    cast(r.run_id as {{ dbt.type_string() }}) as run_id,
    cast(r.revision as integer) as revision,
    cast(r.client_id as {{ dbt.type_string() }}) as client_id,
    cast(r.pay_date as date) as pay_date,
    cast({{ utc_instant('r.pay_date') }} as {{ type_instant() }}) as event_ts,
    cast(r.available_at as {{ type_instant() }}) as available_at,
    cast(r.pay_frequency as {{ dbt.type_string() }}) as pay_frequency,
    cast(r.employee_count as integer) as employee_count,
    cast(
        {{ dbt.datediff('c.signup_date', 'r.pay_date', 'day') }} as bigint
    ) as client_age_days,
    cast(extract(month from r.pay_date) = 1 as boolean) as is_january,
    cast(coalesce(h.new_hires_in_period, 0) as bigint) as new_hires_in_period,
    cast(r.exception_count > 0 as boolean) as had_exception,
    cast(r.needs_correction as boolean) as needs_correction,
    cast(r.exception_type as {{ dbt.type_string() }}) as exception_type,
    cast(r.exception_count as integer) as exception_count,
    cast(r.gross_pay as double) as gross_pay,
    cast(r.team_id as {{ dbt.type_string() }}) as team_id,
    cast(r.revision = l.latest_revision as boolean) as is_latest_revision
from runs as r
inner join clients as c on r.client_id = c.client_id
inner join latest as l on r.run_id = l.run_id
left join hires as h on r.run_id = h.run_id and r.revision = h.revision
