-- Function totals per calendar month, summed over the function's teams: c_r =
-- labor_cost / pu (USD per PU) and pu_per_hour are ratios of the sums, not means of
-- team ratios. treated_teams counts the teams AI-enabled in the month.
with team_months as (
    select * from {{ ref('fct_team_month_pu') }}
),

totals as (
    select
        function,
        month,
        sum(units_completed) as units_completed,
        sum(units_reworked) as units_reworked,
        sum(pu) as pu,
        {{ exact_sum('hours') }} as hours,
        {{ exact_sum('labor_cost') }} as labor_cost,
        count(distinct team_id) as teams,
        count(distinct case when ai_enabled then team_id end) as treated_teams,
        min(case when complete_month then 1 else 0 end) = 1 as complete_month,
        max(available_at) as available_at
    from team_months
    group by function, month
)

select
    cast(function as {{ dbt.type_string() }}) as function,
    cast(month as date) as month,
    cast(units_completed as bigint) as units_completed,
    cast(units_reworked as bigint) as units_reworked,
    cast(pu as bigint) as pu,
    cast(hours as double) as hours,
    cast(labor_cost as double) as labor_cost,
    cast(case when pu > 0 then labor_cost / pu end as double) as c_r,
    cast(case when hours > 0 then pu / hours end as double) as pu_per_hour,
    cast(teams as bigint) as teams,
    cast(treated_teams as bigint) as treated_teams,
    cast(complete_month as boolean) as complete_month,
    cast(available_at as {{ type_instant() }}) as available_at
from totals
