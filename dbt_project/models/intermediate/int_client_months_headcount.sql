-- Active employees of each client at the end of each spine month, and at the end of the
-- same month a year earlier (employees carry history before the window). An employee is
-- active at a date when hired on or before it and not terminated by it. The count a
-- year earlier is null when the client had not signed up by then (no history).
with client_months as (
    select * from {{ ref('int_client_months') }}
),

employees as (
    select * from {{ ref('stg_peo__employees') }}
),

dated as (
    select
        client_id,
        month,
        month_end,
        signup_date,
        cast({{ dbt.dateadd('month', -12, 'month_end') }} as date) as month_end_12m_ago
    from client_months
)

select
    d.client_id,
    d.month,
    count(
        case
            when e.hire_date <= d.month_end
                and (e.termination_date is null or e.termination_date > d.month_end)
                then 1
        end
    ) as active_employees,
    case
        when min(d.signup_date) <= min(d.month_end_12m_ago)
            then count(
                case
                    when e.hire_date <= d.month_end_12m_ago
                        and (
                            e.termination_date is null
                            or e.termination_date > d.month_end_12m_ago
                        )
                        then 1
                end
            )
    end as active_employees_12m_ago,
    max(e._loaded_at) as _loaded_at
from dated as d
left join employees as e
    on d.client_id = e.client_id
    and e.hire_date <= d.month_end
group by d.client_id, d.month
