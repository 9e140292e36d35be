-- Renewal and churn features per client and complete month (one tenant's rows each).
-- event_ts is the first instant of the next month (the month is complete). available_at
-- is the latest arrival among the rows used, and never before event_ts, with one rule
-- for snapshot sources: clients, employees and contracts are exported as one row per
-- entity carrying its latest state (a termination, a renewal outcome), so their
-- _loaded_at dates the entity's latest change, not the facts read here. Those facts are
-- as of the month's end (hired by it and not terminated by it; the term in force at it,
-- its fee and renewal date, its offer only when sent by it), so a snapshot row counts
-- with least(_loaded_at, event_ts). Event rows (payroll runs, contacts, claims,
-- premiums) count with their _loaded_at. latest_row_loaded_at keeps the plain greatest
-- _loaded_at of every row used, for audit. Windows: the 6 calendar months ending with
-- this month (runs, exceptions, contacts) and the 12 ending with it (MLR). Payroll runs
-- count in their latest revision; claims count when paid by the month's end.
with spine as (
    select * from {{ ref('int_client_months') }}
),

clients as (
    select * from {{ ref('stg_peo__clients') }}
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

window_6m as (
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
        and r.month >= {{ dbt.dateadd('month', -5, 's.month') }}
    group by s.client_id, s.month
),

contacts_6m as (
    select
        s.client_id,
        s.month,
        sum(c.contacts) as contacts,
        max(c._loaded_at) as _loaded_at
    from spine as s
    inner join contacts_monthly as c
        on s.client_id = c.client_id
        and c.month <= s.month
        and c.month >= {{ dbt.dateadd('month', -5, 's.month') }}
    group by s.client_id, s.month
),

employee_months_6m as (
    select
        s.client_id,
        s.month,
        sum(h.active_employees) as employee_months
    from spine as s
    inner join headcount as h
        on s.client_id = h.client_id
        and h.month <= s.month
        and h.month >= {{ dbt.dateadd('month', -5, 's.month') }}
    group by s.client_id, s.month
),

claims_12m as (
    select
        s.client_id,
        s.month,
        {{ exact_sum('c.paid_amount') }} as paid_amount,
        max(c._loaded_at) as _loaded_at
    from spine as s
    inner join {{ ref('int_claims_client_months_aggregated') }} as c
        on s.client_id = c.client_id
        and c.service_month <= s.month
        and c.service_month >= {{ dbt.dateadd('month', -11, 's.month') }}
        and c.paid_month <= s.month
    group by s.client_id, s.month
),

premiums_12m as (
    select
        s.client_id,
        s.month,
        {{ exact_sum('p.earned_premium') }} as earned_premium,
        max(p._loaded_at) as _loaded_at
    from spine as s
    inner join {{ ref('stg_peo__premiums') }} as p
        on s.client_id = p.client_id
        and p.coverage_month <= s.month
        and p.coverage_month >= {{ dbt.dateadd('month', -11, 's.month') }}
    group by s.client_id, s.month
),

current_terms as (
    select
        s.client_id,
        s.month,
        k.admin_fee_pepm,
        k.renewal_date,
        case when k.offer_date <= s.month_end then k.offered_rate_change end
            as current_offered_rate_change,
        k._loaded_at,
        row_number() over (
            partition by s.client_id, s.month order by k.term_start desc
        ) as term_rank
    from spine as s
    inner join {{ ref('stg_peo__contracts') }} as k
        on s.client_id = k.client_id
        and k.term_start <= s.month_end
),

assembled as (
    select
        s.client_id,
        s.month,
        {{ utc_instant(dbt.dateadd('month', 1, 's.month')) }} as event_ts,
        h.active_employees,
        case
            when h.active_employees_12m_ago > 0
                then h.active_employees * 1.0 / h.active_employees_12m_ago - 1
        end as headcount_growth_12m,
        {{ dbt.datediff('s.signup_date', 's.month_end', 'month') }} / 12.0
            as tenure_years,
        coalesce(w.runs, 0) as runs_6m,
        case when w.runs > 0 then w.exception_runs * 1.0 / w.runs end
            as exception_share_6m,
        case
            when e.employee_months > 0
                then coalesce(c.contacts, 0) * 1.0 / e.employee_months
        end as contacts_per_employee_6m,
        t.admin_fee_pepm,
        cl.pay_frequency,
        cl.industry,
        t.current_offered_rate_change,
        {{ dbt.datediff('s.month', 't.renewal_date', 'month') }} as months_to_renewal,
        case
            when p.earned_premium > 0 then coalesce(m.paid_amount, 0) / p.earned_premium
        end as mlr_12m,
        s._loaded_at as client_loaded_at,
        h._loaded_at as employees_loaded_at,
        w._loaded_at as runs_loaded_at,
        c._loaded_at as contacts_loaded_at,
        m._loaded_at as claims_loaded_at,
        p._loaded_at as premiums_loaded_at,
        t._loaded_at as contract_loaded_at
    from spine as s
    inner join clients as cl on s.client_id = cl.client_id
    left join headcount as h on s.client_id = h.client_id and s.month = h.month
    left join window_6m as w on s.client_id = w.client_id and s.month = w.month
    left join contacts_6m as c on s.client_id = c.client_id and s.month = c.month
    left join employee_months_6m as e on s.client_id = e.client_id and s.month = e.month
    left join claims_12m as m on s.client_id = m.client_id and s.month = m.month
    left join premiums_12m as p on s.client_id = p.client_id and s.month = p.month
    left join current_terms as t
        on s.client_id = t.client_id
        and s.month = t.month
        and t.term_rank = 1
)

select
    cast(client_id as {{ dbt.type_string() }}) as client_id,
    cast(month as date) as month,
    cast(event_ts as {{ type_instant() }}) as event_ts,
    cast(
        greatest(
            event_ts,
            coalesce(runs_loaded_at, event_ts),
            coalesce(contacts_loaded_at, event_ts),
            coalesce(claims_loaded_at, event_ts),
            coalesce(premiums_loaded_at, event_ts)
        ) as {{ type_instant() }}
    ) as available_at,
    cast(
        greatest(
            event_ts,
            coalesce(client_loaded_at, event_ts),
            coalesce(employees_loaded_at, event_ts),
            coalesce(runs_loaded_at, event_ts),
            coalesce(contacts_loaded_at, event_ts),
            coalesce(claims_loaded_at, event_ts),
            coalesce(premiums_loaded_at, event_ts),
            coalesce(contract_loaded_at, event_ts)
        ) as {{ type_instant() }}
    ) as latest_row_loaded_at,
    cast(active_employees as bigint) as active_employees,
    cast(headcount_growth_12m as double) as headcount_growth_12m,
    cast(tenure_years as double) as tenure_years,
    cast(runs_6m as bigint) as runs_6m,
    cast(exception_share_6m as double) as exception_share_6m,
    cast(contacts_per_employee_6m as double) as contacts_per_employee_6m,
    cast(admin_fee_pepm as double) as admin_fee_pepm,
    cast(pay_frequency as {{ dbt.type_string() }}) as pay_frequency,
    cast(industry as {{ dbt.type_string() }}) as industry,
    cast(current_offered_rate_change as double) as current_offered_rate_change,
    cast(months_to_renewal as bigint) as months_to_renewal,
    cast(mlr_12m as double) as mlr_12m
from assembled
