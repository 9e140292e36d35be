-- Productivity of each team per calendar month (first day). PUs are summed from daily
-- work items of the month; hours and labour cost come from weekly timesheets allocated
-- to months by working days (see int_timesheets_allocated_to_months). The month of the
-- rollout date is the team's first_ai_month and counts as AI-enabled, as do all later
-- months. complete_month is false for the partial months at either end of the data
-- window.
with work as (
    select
        team_id,
        cast({{ dbt.date_trunc('month', 'work_date') }} as date) as month,
        sum(units_completed) as units_completed,
        sum(units_reworked) as units_reworked,
        max(_loaded_at) as _loaded_at
    from {{ ref('int_pu_units_team_day') }}
    group by team_id, cast({{ dbt.date_trunc('month', 'work_date') }} as date)
),

labor as (
    select * from {{ ref('int_timesheets_allocated_to_months') }}
),

team_months as (
    select
        coalesce(w.team_id, l.team_id) as team_id,
        coalesce(w.month, l.month) as month,
        coalesce(w.units_completed, 0) as units_completed,
        coalesce(w.units_reworked, 0) as units_reworked,
        coalesce(l.hours, 0) as hours,
        coalesce(l.labor_cost, 0) as labor_cost,
        coalesce(l.agents, 0) as agents,
        greatest(w._loaded_at, l._loaded_at) as _loaded_at
    from work as w
    full outer join labor as l
        on w.team_id = l.team_id
        and w.month = l.month
),

data_window as (
    select * from {{ ref('int_data_window') }}
),

teams as (
    select * from {{ ref('stg_peo__teams') }}
),

rollouts as (
    select * from {{ ref('int_team_rollouts') }}
),

measured as (
    select
        tm.team_id,
        t.function,
        t.site,
        tm.month,
        tm.units_completed,
        tm.units_reworked,
        tm.units_completed - tm.units_reworked as pu,
        tm.hours,
        tm.labor_cost,
        tm.agents,
        t.agents as agents_rostered,
        r.first_rollout_date,
        r.first_ai_month,
        tm.month >= dw.first_day
        and tm.month < dw.month_after_last_complete as complete_month,
        tm._loaded_at
    from team_months as tm
    inner join teams as t on tm.team_id = t.team_id
    cross join data_window as dw
    left join rollouts as r on tm.team_id = r.team_id
)

select
    cast(team_id as {{ dbt.type_string() }}) as team_id,
    cast(function as {{ dbt.type_string() }}) as function,
    cast(site as {{ dbt.type_string() }}) as site,
    cast(month as date) as month,
    cast(units_completed as bigint) as units_completed,
    cast(units_reworked as bigint) as units_reworked,
    cast(pu as bigint) as pu,
    cast(hours as double) as hours,
    cast(labor_cost as double) as labor_cost,
    cast(case when pu > 0 then labor_cost / pu end as double) as c_r,
    cast(case when hours > 0 then pu / hours end as double) as pu_per_hour,
    cast(agents as bigint) as agents,
    cast(agents_rostered as integer) as agents_rostered,
    cast(coalesce(first_ai_month <= month, false) as boolean) as ai_enabled,
    cast(first_rollout_date as date) as rollout_date,
    cast(first_ai_month as date) as first_ai_month,
    cast(complete_month as boolean) as complete_month,
    cast(_loaded_at as {{ type_instant() }}) as available_at
from measured
