-- Claims (PHI) pooled to pricing group (industry x size band) x service month over the
-- experience year, for the clients of int_pricing_experience_clients, beside the group's
-- member-months and earned premium. Pooling keeps the claims of client-months that
-- agg_claims_client_month suppresses (small clients), so a group's claims per
-- member-month is not taken from its largest clients alone. A cell is suppressed (its
-- claims measures null) when it has fewer than var('min_cell_size') distinct members,
-- or when the members of its client-months suppressed in agg_claims_client_month number
-- between one and the minimum: the cell total minus the published client cells would
-- otherwise reveal them.
with clients as (
    select * from {{ ref('int_pricing_experience_clients') }}
),

claims as (
    select
        c.client_id,
        k.industry,
        k.size_band,
        cast({{ dbt.date_trunc('month', 'c.service_date') }} as date) as service_month,
        c.member_key,
        c.paid_amount,
        c._loaded_at
    from {{ ref('stg_peo__claims') }} as c
    inner join clients as k on c.client_id = k.client_id
    where cast({{ dbt.date_trunc('month', 'c.service_date') }} as date) >= k.first_month
        and cast({{ dbt.date_trunc('month', 'c.service_date') }} as date) <= k.last_month
),

client_cells as (
    select client_id, service_month, count(distinct member_key) as members
    from claims
    group by client_id, service_month
),

pooled as (
    select
        c.industry,
        c.size_band,
        c.service_month,
        count(distinct c.member_key) as members,
        count(*) as claims,
        {{ exact_sum('c.paid_amount') }} as paid_amount,
        count(
            distinct case
                when cc.members < {{ var('min_cell_size', 11) }} then c.member_key
            end
        ) as small_cell_members,
        max(c._loaded_at) as available_at
    from claims as c
    inner join client_cells as cc
        on c.client_id = cc.client_id and c.service_month = cc.service_month
    group by c.industry, c.size_band, c.service_month
),

exposure as (
    select
        k.industry,
        k.size_band,
        p.coverage_month as service_month,
        count(*) as clients,
        sum(p.enrolled_members) as member_months,
        {{ exact_sum('p.earned_premium') }} as earned_premium
    from {{ ref('stg_peo__premiums') }} as p
    inner join clients as k on p.client_id = k.client_id
    where p.coverage_month >= k.first_month and p.coverage_month <= k.last_month
    group by k.industry, k.size_band, p.coverage_month
),

flagged as (
    select
        e.industry,
        e.size_band,
        e.service_month,
        e.clients,
        e.member_months,
        e.earned_premium,
        p.members,
        p.claims,
        p.paid_amount,
        p.available_at,
        coalesce(p.members, 0) < {{ var('min_cell_size', 11) }}
        or (
            p.small_cell_members > 0
            and p.small_cell_members < {{ var('min_cell_size', 11) }}
        ) as suppressed
    from exposure as e
    left join pooled as p
        on e.industry = p.industry
        and e.size_band = p.size_band
        and e.service_month = p.service_month
)

select
    cast(industry as {{ dbt.type_string() }}) as industry,
    cast(size_band as {{ dbt.type_string() }}) as size_band,
    cast(service_month as date) as service_month,
    cast(clients as bigint) as clients,
    cast(member_months as bigint) as member_months,
    cast(earned_premium as double) as earned_premium,
    cast(case when not suppressed then members end as bigint) as members,
    cast(case when not suppressed then claims end as bigint) as claims,
    cast(case when not suppressed then paid_amount end as double) as paid_amount,
    cast(suppressed as boolean) as suppressed,
    cast(available_at as {{ type_instant() }}) as available_at
from flagged
