-- Productivity of each team per week (Monday): quality-gated productivity units (PUs)
-- as the PU registry defines them (int_pu_units_team_day),
-- hours and loaded labour cost from timesheets, the realized cost per PU (c_r) and the
-- AI flag. Daily work items are mapped to the Monday of their week. A week is AI-
-- enabled when the team's first rollout date is on or before its Monday.
with work as (
    select
        team_id,
        cast({{ dbt.date_trunc('week', 'work_date') }} as date) as week_start,
        sum(units_completed) as units_completed,
        sum(units_reworked) as units_reworked,
        max(_loaded_at) as _loaded_at
    from {{ ref('int_pu_units_team_day') }}
    group by team_id, cast({{ dbt.date_trunc('week', 'work_date') }} as date)
),

labor as (
    select
        team_id,
        week_start,
        {{ exact_sum('hours') }} as hours,
        {{ exact_sum('labor_cost') }} as labor_cost,
        count(distinct case when hours > 0 then agent_id end) as agents,
        max(_loaded_at) as _loaded_at
    from {{ ref('stg_peo__timesheets') }}
    group by team_id, week_start
),

team_weeks as (
    select
        coalesce(w.team_id, l.team_id) as team_id,
        coalesce(w.week_start, l.week_start) as week_start,
        coalesce(w.units_completed, 0) as units_completed,
        coalesce(w.units_reworked, 0) as units_reworked,
        coalesce(l.hours, 0) as hours,
        coalesce(l.labor_cost, 0) as labor_cost,
        coalesce(l.agents, 0) as agents,
        greatest(w._loaded_at, l._loaded_at) as _loaded_at
    from work as w
    full outer join labor as l
        on w.team_id = l.team_id
        and w.week_start = l.week_start
),

teams as (
    select * from {{ ref('stg_peo__teams') }}
),

rollouts as (
    select * from {{ ref('int_team_rollouts') }}
),

data_window as (
    select * from {{ ref('int_data_window') }}
),

measured as (
    select
        tw.team_id,
        t.function,
        t.site,
        tw.week_start,
        tw.units_completed,
        tw.units_reworked,
        tw.units_completed - tw.units_reworked as pu,
        tw.hours,
        tw.labor_cost,
        tw.agents,
        t.agents as agents_rostered,
        r.first_rollout_date,
        r.first_ai_week,
        tw.week_start >= dw.first_day
        and {{ dbt.dateadd('day', 6, 'tw.week_start') }} <= dw.last_day as complete_week,
        tw._loaded_at
    from team_weeks as tw
    inner join teams as t on tw.team_id = t.team_id
    cross join data_window as dw
    left join rollouts as r on tw.team_id = r.team_id
)

select
    cast(team_id as {{ dbt.type_string() }}) as team_id,
    cast(function as {{ dbt.type_string() }}) as function,
    cast(site as {{ dbt.type_string() }}) as site,
    cast(week_start as date) as week_start,
    cast(units_completed as bigint) as units_completed,
    cast(units_reworked as bigint) as units_reworked,
    cast(pu as bigint) as pu,
    cast(hours as double) as hours,
    cast(labor_cost as double) as labor_cost,
    cast(case when pu > 0 then labor_cost / pu end as double) as c_r,
    cast(case when hours > 0 then pu / hours end as double) as pu_per_hour,
    cast(agents as bigint) as agents,
    cast(agents_rostered as integer) as agents_rostered,
    cast(coalesce(first_rollout_date <= week_start, false) as boolean) as ai_enabled,
    cast(first_rollout_date as date) as rollout_date,
    cast(first_ai_week as date) as first_ai_week,
    cast(complete_week as boolean) as complete_week,
    cast(_loaded_at as {{ type_instant() }}) as available_at
from measured
