-- Staffing and productivity features per team and week (Monday), from the PU facts.
-- A team serves every tenant: team-week is an operational aggregate with no tenant.
-- event_ts is the first instant after the week (Monday + 7 days, 00:00 UTC): the week is
-- complete; available_at is the latest arrival among the rows used, at least event_ts.
-- Trailing 4-week figures are ratios of sums over the week and the three before it
-- (weeks absent from the facts count as nothing), so c_r_4w is labour cost per PU.
with facts as (
    select * from {{ ref('fct_team_week_pu') }}
),

last_four_weeks as (
    select
        f.team_id,
        f.week_start,
        sum(p.pu) as pu_4w,
        {{ exact_sum('p.hours') }} as hours_4w,
        {{ exact_sum('p.labor_cost') }} as labor_cost_4w
    from facts as f
    inner join facts as p
        on f.team_id = p.team_id
        and p.week_start <= f.week_start
        and p.week_start >= {{ dbt.dateadd('day', -21, 'f.week_start') }}
    group by f.team_id, f.week_start
)

select
    cast(f.team_id as {{ dbt.type_string() }}) as team_id,
    cast(f.week_start as date) as week_start,
    cast(
        {{ utc_instant(dbt.dateadd('day', 7, 'f.week_start')) }} as {{ type_instant() }}
    ) as event_ts,
    cast(
        greatest(
            {{ utc_instant(dbt.dateadd('day', 7, 'f.week_start')) }},
            coalesce(
                f.available_at,
                {{ utc_instant(dbt.dateadd('day', 7, 'f.week_start')) }}
            )
        ) as {{ type_instant() }}
    ) as available_at,
    cast(f.function as {{ dbt.type_string() }}) as function,
    cast(f.pu as bigint) as pu,
    cast(f.hours as double) as hours,
    cast(f.c_r as double) as c_r,
    cast(f.pu_per_hour as double) as pu_per_hour,
    cast(f.agents as bigint) as agents,
    cast(t.pu_4w / 4.0 as double) as pu_4w_mean,
    cast(case when t.pu_4w > 0 then t.labor_cost_4w / t.pu_4w end as double) as c_r_4w,
    cast(case when t.hours_4w > 0 then t.pu_4w / t.hours_4w end as double)
        as pu_per_hour_4w,
    cast(f.ai_enabled as boolean) as ai_enabled,
    cast(f.complete_week as boolean) as complete_week
from facts as f
inner join last_four_weeks as t
    on f.team_id = t.team_id
    and f.week_start = t.week_start
