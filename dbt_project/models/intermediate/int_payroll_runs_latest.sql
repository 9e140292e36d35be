-- The latest revision of every payroll run: what the run finally was, with the number
-- of revisions it went through. available_at is when that latest revision arrived.
with runs as (
    select * from {{ ref('stg_peo__payroll_runs') }}
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
        team_id,
        available_at,
        count(*) over (partition by run_id) as revisions,
        row_number() over (partition by run_id order by revision desc) as revision_rank
    from runs
)

select
    run_id,
    revision,
    revisions,
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
    available_at
from ranked
where revision_rank = 1
