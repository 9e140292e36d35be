{#- Schemas are exactly the folder's `+schema` (staging, intermediate, marts), never
    prefixed with the target's schema, so that the Python side reads `marts.<table>` on
    any target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
