-- Productivity units (PUs) per team and day, as the PU registry (seed pu_registry)
-- defines them: the work items of the function's item_type, completed minus those
-- that failed the quality gate (reworked). Work items of any other item type are not
-- PUs of the function and are left out.
with work_items as (
    select * from {{ ref('stg_peo__work_items') }}
),

registry as (
    select * from {{ ref('pu_registry') }}
)

select
    w.team_id,
    w.function,
    w.work_date,
    r.item_type,
    r.unit,
    w.completed as units_completed,
    w.reworked as units_reworked,
    w.completed - w.reworked as pu,
    w._loaded_at
from work_items as w
inner join registry as r
    on w.function = r.function
    and w.item_type = r.item_type
