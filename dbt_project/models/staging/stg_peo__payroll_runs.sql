-- Payroll runs, every revision kept: a correction is a new row with a higher revision
-- and a later _loaded_at, which is when that version of the run became available.
with source as (
    select * from {{ source('peo', 'payroll_runs') }}
),

ranked as (
    select
        run_id,
        revision,
        client_id,
        pay_frequency,
        period_start,
        period_end,
        pay_date,
        employee_count,
        gross_pay,
        exception_count,
        exception_type,
        needs_correction,
        processed_by_team as team_id,
        _loaded_at,
        row_number() over (
            partition by run_id, revision order by _loaded_at desc
        ) as row_rank
    from source
)

select
    run_id,
    revision,
    client_id,
    pay_frequency,
    period_start,
    period_end,
    pay_date,
    employee_count,
    gross_pay,
    exception_count,
    exception_type,
    needs_correction,
    team_id,
    _loaded_at,
    _loaded_at as available_at
from ranked
where row_rank = 1
