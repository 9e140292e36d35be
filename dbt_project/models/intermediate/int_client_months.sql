-- The client x month spine of the feature tables: every complete month of the data
-- window in which the client was served on at least one day (see int_client_service).
with service as (
    select * from {{ ref('int_client_service') }}
),

data_window as (
    select * from {{ ref('int_data_window') }}
),

months as (
    select spine.date_month as month
    from ({{ month_spine("'2000-01-01'", "'2040-12-01'") }}) as spine
    cross join data_window
    where spine.date_month >= data_window.first_month
        and spine.date_month < data_window.month_after_last_complete
)

select
    s.client_id,
    m.month,
    cast(
        {{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'm.month')) }} as date
    ) as month_end,
    s.signup_date,
    s.service_end_date,
    s._loaded_at
from service as s
cross join months as m
where s.signup_date <= {{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'm.month')) }}
    and (s.service_end_date is null or s.service_end_date > m.month)
