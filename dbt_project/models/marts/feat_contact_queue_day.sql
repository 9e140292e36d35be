-- Contact volumes per queue and UTC day with calendar flags, for contact forecasting
-- and staffing. A queue-day aggregates the contacts of every tenant: it is not a tenant
-- entity and carries no tenant rows or keys. Every day of the data window appears for
-- every queue (zero contacts included). event_ts is the first instant after the day
-- (the day is complete); available_at the latest arrival among the rows used, at least
-- event_ts. payroll_day_share: active clients with a pay date that day (latest
-- revision) / active clients that day; a client is active from signup until its service
-- end.
with contacts as (
    select * from {{ ref('stg_peo__contacts') }}
),

data_window as (
    select * from {{ ref('int_data_window') }}
),

queues as (
    select distinct queue from contacts
),

days as (
    select spine.date_day
    from ({{ day_spine("'2000-01-01'", "'2040-12-31'") }}) as spine
    cross join data_window as dw
    where spine.date_day >= dw.first_day
        and spine.date_day <= dw.last_day
),

volumes as (
    select
        queue,
        opened_date,
        count(*) as contacts,
        count(case when abandoned then 1 end) as abandoned,
        {{ exact_avg('handle_seconds') }} as mean_handle_seconds,
        {{ exact_avg('wait_seconds') }} as mean_wait_seconds,
        max(_loaded_at) as _loaded_at
    from contacts
    group by queue, opened_date
),

service as (
    select * from {{ ref('int_client_service') }}
),

active as (
    select
        d.date_day,
        count(*) as active_clients
    from days as d
    inner join service as s
        on s.signup_date <= d.date_day
        and (s.service_end_date is null or s.service_end_date > d.date_day)
    group by d.date_day
),

paying as (
    select
        r.pay_date,
        count(distinct r.client_id) as paying_clients,
        max(r.available_at) as _loaded_at
    from {{ ref('int_payroll_runs_latest') }} as r
    inner join service as s
        on r.client_id = s.client_id
        and s.signup_date <= r.pay_date
        and (s.service_end_date is null or s.service_end_date > r.pay_date)
    group by r.pay_date
),

holidays as (
    select holiday_date from {{ ref('us_federal_holidays') }}
),

assembled as (
    select
        q.queue,
        d.date_day,
        {{ utc_instant(dbt.dateadd('day', 1, 'd.date_day')) }} as event_ts,
        coalesce(v.contacts, 0) as contacts,
        coalesce(v.abandoned, 0) as abandoned,
        v.mean_handle_seconds,
        v.mean_wait_seconds,
        case
            when a.active_clients > 0
                then coalesce(p.paying_clients, 0) * 1.0 / a.active_clients
        end as payroll_day_share,
        {{ iso_weekday('d.date_day') }} >= 6 as is_weekend,
        h.holiday_date is not null as is_holiday,
        extract(month from d.date_day) = 11 as is_open_enrollment,
        (extract(month from d.date_day) = 12 and extract(day from d.date_day) >= 15)
        or (extract(month from d.date_day) = 1 and extract(day from d.date_day) <= 15)
            as is_year_end,
        v._loaded_at as contacts_loaded_at,
        p._loaded_at as runs_loaded_at
    from queues as q
    cross join days as d
    left join volumes as v on q.queue = v.queue and d.date_day = v.opened_date
    left join active as a on d.date_day = a.date_day
    left join paying as p on d.date_day = p.pay_date
    left join holidays as h on d.date_day = h.holiday_date
)

select
    cast(queue as {{ dbt.type_string() }}) as queue,
    cast(date_day as date) as date,
    cast(event_ts as {{ type_instant() }}) as event_ts,
    cast(
        greatest(
            event_ts,
            coalesce(contacts_loaded_at, event_ts),
            coalesce(runs_loaded_at, event_ts)
        ) as {{ type_instant() }}
    ) as available_at,
    cast(contacts as bigint) as contacts,
    cast(abandoned as bigint) as abandoned,
    cast(mean_handle_seconds as double) as mean_handle_seconds,
    cast(mean_wait_seconds as double) as mean_wait_seconds,
    cast(payroll_day_share as double) as payroll_day_share,
    cast(is_weekend as boolean) as is_weekend,
    cast(is_holiday as boolean) as is_holiday,
    cast(is_open_enrollment as boolean) as is_open_enrollment,
    cast(is_year_end as boolean) as is_year_end
from assembled
