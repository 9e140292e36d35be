{#- Calendar spines: one row per month (first day) or per day between two date
    expressions, both ends included. DuckDB's generate_series and Spark's sequence
    differ; the models only see a `date_month` / `date_day` column. -#}
{% macro month_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('month_spine', 'coadv')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__month_spine(start_date, end_date) -%}
    select cast(generate_series as date) as date_month
    from generate_series(
        cast({{ start_date }} as date),
        cast({{ end_date }} as date),
        interval 1 month
    )
{%- endmacro %}

{% macro spark__month_spine(start_date, end_date) -%}
    select explode(
        sequence(
            cast({{ start_date }} as date),
            cast({{ end_date }} as date),
            interval 1 month
        )
    ) as date_month
{%- endmacro %}

{% macro day_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('day_spine', 'coadv')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__day_spine(start_date, end_date) -%}
    select cast(generate_series as date) as date_day
    from generate_series(
        cast({{ start_date }} as date),
        cast({{ end_date }} as date),
        interval 1 day
    )
{%- endmacro %}

{% macro spark__day_spine(start_date, end_date) -%}
    select explode(
        sequence(
            cast({{ start_date }} as date),
            cast({{ end_date }} as date),
            interval 1 day
        )
    ) as date_day
{%- endmacro %}
