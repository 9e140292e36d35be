-- Worksite employees without their personal data: names, SSN, birth date and e-mail are
-- dropped, and employee_id survives only as a keyed hash (employee_key).
with source as (
    select * from {{ source('peo', 'employees') }}
),

ranked as (
    select
        {{ keyed_hash('employee_id') }} as employee_key,
        client_id,
        hire_date,
        termination_date,
        job_class,
        annual_salary,
        work_state,
        _loaded_at,
        row_number() over (
            partition by employee_id order by _loaded_at desc
        ) as row_rank
    from source
)

select
    employee_key,
    client_id,
    hire_date,
    termination_date,
    job_class,
    annual_salary,
    work_state,
    _loaded_at
from ranked
where row_rank = 1
