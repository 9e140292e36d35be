-- Each client's service period: from its signup date until its service end, the outcome
-- date (else the renewal date) of its last contract when that contract ended
-- lost_at_renewal or terminated_midterm; service_end_date is the first day without
-- service and is null while the client is served.
with clients as (
    select * from {{ ref('stg_peo__clients') }}
),

last_contracts as (
    select
        client_id,
        outcome,
        outcome_date,
        renewal_date,
        row_number() over (
            partition by client_id order by term_start desc, renewal_date desc
        ) as contract_rank
    from {{ ref('stg_peo__contracts') }}
)

select
    c.client_id,
    c.signup_date,
    case
        when k.outcome in ('lost_at_renewal', 'terminated_midterm')
            then coalesce(k.outcome_date, k.renewal_date)
    end as service_end_date,
    c._loaded_at
from clients as c
left join last_contracts as k
    on c.client_id = k.client_id
    and k.contract_rank = 1
