{#- Governance: every documented column of every model and seed carries
    meta.classification in (none, pii, phi, phi_aggregated), and outside staging no
    column is pii or phi (phi_aggregated is allowed: aggregated claims). One row per
    violation. -#}
{{ config(tags=['governance']) }}

{%- set allowed = ['none', 'pii', 'phi', 'phi_aggregated'] -%}
{%- set rows = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type in ['model', 'seed'] -%}
        {%- set layer = node.fqn[1] if node.fqn | length > 2 else 'root' -%}
        {%- if not node.columns -%}
            {%- do rows.append([node.name, '*', 'no documented columns']) -%}
        {%- endif -%}
        {%- for column in node.columns.values() -%}
            {%- set meta = column.get('meta') or {} -%}
            {%- set config_meta = (column.get('config') or {}).get('meta') or {} -%}
            {%- set classification = meta.get(
                'classification', config_meta.get('classification')
            ) -%}
            {%- if classification not in allowed -%}
                {%- set problem = 'unclassified: ' ~ classification -%}
                {%- do rows.append([node.name, column.name, problem]) -%}
            {%- elif layer != 'staging' and classification in ['pii', 'phi'] -%}
                {%- set problem = classification ~ ' outside staging' -%}
                {%- do rows.append([node.name, column.name, problem]) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

{% if rows -%}
{%- for row in rows %}
select
    '{{ row[0] }}' as model_name,
    '{{ row[1] }}' as column_name,
    '{{ row[2] }}' as problem
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{%- else -%}
select
    cast(null as {{ dbt.type_string() }}) as model_name,
    cast(null as {{ dbt.type_string() }}) as column_name,
    cast(null as {{ dbt.type_string() }}) as problem
where 1 = 0
{%- endif %}
