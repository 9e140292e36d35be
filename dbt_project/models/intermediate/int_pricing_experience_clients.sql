-- The clients priced by the MLR rate action and their group, with the experience year
-- (no PHI). Experience year: the 12 service months ending four months before the last
-- month with a paid claim (run-out for claims paid late). Clients: those in force, with
-- a premium row in the latest coverage month; a client that has left is not renewed,
-- and its last covered months carry premium without the claims paid after it left.
-- Group: industry by size band on the client's mean enrolled members over the months of
-- the year it was covered (small < 30, mid 30-99, large >= 100).
with last_claim as (
    select
        max(cast({{ dbt.date_trunc('month', 'service_date') }} as date)) as last_service_month
    from {{ ref('stg_peo__claims') }}
),

experience as (
    select
        cast({{ dbt.dateadd('month', -15, 'last_service_month') }} as date) as first_month,
        cast({{ dbt.dateadd('month', -4, 'last_service_month') }} as date) as last_month
    from last_claim
),

premiums as (
    select * from {{ ref('stg_peo__premiums') }}
),

in_force as (
    select client_id
    from premiums
    where coverage_month = (select max(coverage_month) from premiums)
),

sized as (
    select
        p.client_id,
        avg(p.enrolled_members) as mean_members
    from premiums as p
    cross join experience as e
    where p.coverage_month >= e.first_month
        and p.coverage_month <= e.last_month
        and p.client_id in (select client_id from in_force)
    group by p.client_id
)

select
    s.client_id,
    c.industry,
    case
        when s.mean_members < 30 then 'small'
        when s.mean_members < 100 then 'mid'
        else 'large'
    end as size_band,
    cast(s.mean_members as double) as mean_members,
    e.first_month,
    e.last_month
from sized as s
inner join {{ ref('stg_peo__clients') }} as c on s.client_id = c.client_id
cross join experience as e
