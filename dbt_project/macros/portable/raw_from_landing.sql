{#- The `raw` source tables of a Spark target, read from the landing folder's Parquet
    files (`$COADV_HOME/landing/<table>/*.parquet`) as external tables. On DuckDB the
    ingestion loads `raw` under contract, so this does nothing there. Known shortcoming:
    on Spark the landing files are read as they are, without the ingestion's contract
    checks; a cluster deployment would run the ingestion's rules as a Spark job (or land
    through Auto Loader with the same contracts) before dbt. -#}
{% macro raw_from_landing() -%}
    {{ return(adapter.dispatch('raw_from_landing', 'coadv')()) }}
{%- endmacro %}

{% macro default__raw_from_landing() -%}
    select 1
{%- endmacro %}

{% macro spark__raw_from_landing() -%}
    {%- set landing = env_var('COADV_HOME', '../data').strip().rstrip('/') ~ '/landing' -%}
    {%- if execute -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for source in graph.sources.values() if source.source_name == 'peo' -%}
            {%- do run_query(
                'create table if not exists raw.' ~ source.name
                ~ " using parquet location '" ~ landing ~ '/' ~ source.name ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
