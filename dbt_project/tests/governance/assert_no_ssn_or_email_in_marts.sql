{#- Governance: no value of any text column of any mart looks like an SSN (ddd-dd-dddd)
    or an e-mail address. One row per offending column, with the count of rows. -#}
{{ config(tags=['governance']) }}

-- depends_on: {{ ref('fct_team_week_pu') }}
-- depends_on: {{ ref('fct_team_month_pu') }}
-- depends_on: {{ ref('fct_function_month_pu') }}
-- depends_on: {{ ref('feat_client_month') }}
-- depends_on: {{ ref('feat_payroll_run') }}
-- depends_on: {{ ref('feat_contact_queue_day') }}
-- depends_on: {{ ref('lbl_renewal') }}
-- depends_on: {{ ref('agg_claims_client_month') }}
-- depends_on: {{ ref('feat_team_week') }}

{%- set ssn = '[0-9]{3}-[0-9]{2}-[0-9]{4}' -%}
{%- set email = '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}' -%}
{%- set checks = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.fqn[1] == 'marts' -%}
        {%- for column in node.columns.values()
            if (column.data_type or 'varchar') | lower
                in ['varchar', 'text', 'string'] -%}
            {%- do checks.append([node.name, node.relation_name, column.name]) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

{% if checks -%}
{%- for check in checks %}
select
    '{{ check[0] }}' as model_name,
    '{{ check[2] }}' as column_name,
    count(*) as offending_rows
from {{ check[1] }}
where {{ regex_matches(check[2], ssn) }}
    or {{ regex_matches(check[2], email) }}
having count(*) > 0
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{%- else -%}
select
    cast(null as {{ dbt.type_string() }}) as model_name,
    cast(null as {{ dbt.type_string() }}) as column_name,
    0 as offending_rows
where 1 = 0
{%- endif %}
