-- Payroll-exception labels: one row per payroll run, from its first revision (what the
-- payroll system reported when it processed the run). had_exception is true when that
-- revision carries at least one exception: the event whose probability the simulator
-- plants (p_exception_true), and whose count a later revision never changes.
-- needs_correction_final (the latest revision's flag) is kept for reconciliation only.
-- score_ts is the pay date at 00:00 UTC: a revision 2 arrives 3 days or more after the
-- first and never before it, so nothing corrected later is read at score_ts.
with runs as (
    select * from {{ ref('stg_peo__payroll_runs') }}
),

first_revision as (
    select * from runs where revision = 1
),

latest as (
    select
        run_id,
        max(revision) as revisions,
        max(case when needs_correction then 1 else 0 end) as any_correction
    from runs
    group by run_id
)

select
    cast(f.run_id as {{ dbt.type_string() }}) as run_id,
    cast(f.client_id as {{ dbt.type_string() }}) as client_id,
    cast(f.pay_date as date) as pay_date,
    cast({{ utc_instant('f.pay_date') }} as {{ type_instant() }}) as score_ts,
    cast(f.exception_count > 0 as boolean) as had_exception,
    cast(l.any_correction = 1 as boolean) as needs_correction_final,
    cast(l.revisions as integer) as revisions,
    cast(f.available_at as {{ type_instant() }}) as label_available_at
from first_revision as f
inner join latest as l on f.run_id = l.run_id
