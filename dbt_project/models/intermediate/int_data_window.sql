-- The window the operational data cover, in one row: its first day, the last day with
-- data, the last complete month and the latest arrival time. Marts use it to keep to
-- complete periods and to the decisions that fell inside the window.
with work_days as (
    select min(work_date) as first_day, max(work_date) as last_day
    from {{ ref('stg_peo__work_items') }}
),

contact_days as (
    select min(opened_date) as first_day, max(opened_date) as last_day
    from {{ ref('stg_peo__contacts') }}
),

run_days as (
    select min(pay_date) as first_day
    from {{ ref('stg_peo__payroll_runs') }}
),

arrivals as (
    select max(_loaded_at) as as_of from {{ ref('stg_peo__payroll_runs') }}
    union all
    select max(_loaded_at) from {{ ref('stg_peo__clients') }}
    union all
    select max(_loaded_at) from {{ ref('stg_peo__contracts') }}
    union all
    select max(_loaded_at) from {{ ref('stg_peo__work_items') }}
),

bounds as (
    -- least / greatest skip nulls: a table without rows does not hide the others
    select
        least(w.first_day, c.first_day, r.first_day) as first_day,
        greatest(w.last_day, c.last_day) as last_day
    from work_days as w
    cross join contact_days as c
    cross join run_days as r
)

select
    first_day,
    cast({{ dbt.date_trunc('month', 'first_day') }} as date) as first_month,
    last_day,
    -- the last month whose every day is covered
    cast({{ dbt.date_trunc('month', dbt.dateadd('day', 1, 'last_day')) }} as date)
        as month_after_last_complete,
    (select max(as_of) from arrivals) as as_of
from bounds
