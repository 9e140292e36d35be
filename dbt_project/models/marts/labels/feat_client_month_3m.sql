-- Short-window service features per client and complete month (one tenant's rows each),
-- for the churn model: the 3 calendar months ending with the month (payroll exception
-- share, contacts per employee-month) and the 6-month headcount growth. They follow
-- feat_client_month's rules: event_ts is the first instant of the next month, payroll
-- runs count in their latest revision by pay-date month, contacts by opened date,
-- headcount at month end; available_at is the latest arrival of the event rows used,
-- at least event_ts (the employee snapshot counts as of the month's end).
with spine as (
    select * from {{ ref('int_client_months') }}
),

headcount as (
    select * from {{ ref('int_client_months_headcount') }}
),

runs_monthly as (
    select
        client_id,
        cast({{ dbt.date_trunc('month', 'pay_date') }} as date) as month,
        count(*) as runs,
        count(case when exception_count > 0 then 1 end) as exception_runs,
        max(available_at) as _loaded_at
    from {{ ref('int_payroll_runs_latest') }}
    group by client_id, cast({{ dbt.date_trunc('month', 'pay_date') }} as date)
),

contacts_monthly as (
    select
        client_id,
        cast({{ dbt.date_trunc('month', 'opened_date') }} as date) as month,
        count(*) as contacts,
        max(_loaded_at) as _loaded_at
    from {{ ref('stg_peo__contacts') }}
    group by client_id, cast({{ dbt.date_trunc('month', 'opened_date') }} as date)
),

runs_3m as (
    select
        s.client_id,
        s.month,
        sum(r.runs) as runs,
        sum(r.exception_runs) as exception_runs,
        max(r._loaded_at) as _loaded_at
    from spine as s
    inner join runs_monthly as r
        on s.client_id = r.client_id
        and r.month <= s.month
        and r.month >= {{ dbt.dateadd('month', -2, 's.month') }}
    group by s.client_id, s.month
),

contacts_3m as (
    select
        s.client_id,
        s.month,
        sum(c.contacts) as contacts,
        max(c._loaded_at) as _loaded_at
    from spine as s
    inner join contacts_monthly as c
        on s.client_id = c.client_id
        and c.month <= s.month
        and c.month >= {{ dbt.dateadd('month', -2, 's.month') }}
    group by s.client_id, s.month
),

employee_months_3m as (
    select
        s.client_id,
        s.month,
        sum(h.active_employees) as employee_months
    from spine as s
    inner join headcount as h
        on s.client_id = h.client_id
        and h.month <= s.month
        and h.month >= {{ dbt.dateadd('month', -2, 's.month') }}
    group by s.client_id, s.month
),

assembled as (
    select
        s.client_id,
        s.month,
        {{ utc_instant(dbt.dateadd('month', 1, 's.month')) }} as event_ts,
        case when r.runs > 0 then r.exception_runs * 1.0 / r.runs end
            as exception_share_3m,
        case
            when e.employee_months > 0
                then coalesce(c.contacts, 0) * 1.0 / e.employee_months
        end as contacts_per_employee_3m,
        case
            when h6.active_employees > 0
                then h.active_employees * 1.0 / h6.active_employees - 1
        end as headcount_growth_6m,
        r._loaded_at as runs_loaded_at,
        c._loaded_at as contacts_loaded_at
    from spine as s
    left join headcount as h on s.client_id = h.client_id and s.month = h.month
    left join headcount as h6
        on s.client_id = h6.client_id
        and h6.month = {{ dbt.dateadd('month', -6, 's.month') }}
    left join runs_3m as r on s.client_id = r.client_id and s.month = r.month
    left join contacts_3m as c on s.client_id = c.client_id and s.month = c.month
    left join employee_months_3m as e on s.client_id = e.client_id and s.month = e.month
)

select
    cast(client_id as {{ dbt.type_string() }}) as client_id,
    cast(month as date) as month,
    cast(event_ts as {{ type_instant() }}) as event_ts,
    cast(
        greatest(
            event_ts,
            coalesce(runs_loaded_at, event_ts),
            coalesce(contacts_loaded_at, event_ts)
        ) as {{ type_instant() }}
    ) as available_at,
    cast(exception_share_3m as double) as exception_share_3m,
    cast(contacts_per_employee_3m as double) as contacts_per_employee_3m,
    cast(headcount_growth_6m as double) as headcount_growth_6m
from assembled
