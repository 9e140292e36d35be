{#- Instants and calendar helpers whose syntax differs between DuckDB and Spark. -#}

{#- The instant 00:00 UTC of a date, as timestamp with time zone. -#}
{% macro utc_instant(date_expr) -%}
    {{ return(adapter.dispatch('utc_instant', 'coadv')(date_expr)) }}
{%- endmacro %}

{% macro default__utc_instant(date_expr) -%}
    timezone('UTC', cast({{ date_expr }} as timestamp))
{%- endmacro %}

{% macro spark__utc_instant(date_expr) -%}
    to_utc_timestamp(cast({{ date_expr }} as timestamp), 'UTC')
{%- endmacro %}

{#- The UTC calendar date of an instant. -#}
{% macro utc_date(instant_expr) -%}
    {{ return(adapter.dispatch('utc_date', 'coadv')(instant_expr)) }}
{%- endmacro %}

{% macro default__utc_date(instant_expr) -%}
    cast(timezone('UTC', {{ instant_expr }}) as date)
{%- endmacro %}

{% macro spark__utc_date(instant_expr) -%}
    to_date(from_utc_timestamp({{ instant_expr }}, 'UTC'))
{%- endmacro %}

{#- ISO day of the week: 1 = Monday .. 7 = Sunday. -#}
{% macro iso_weekday(date_expr) -%}
    {{ return(adapter.dispatch('iso_weekday', 'coadv')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_weekday(date_expr) -%}
    isodow({{ date_expr }})
{%- endmacro %}

{% macro spark__iso_weekday(date_expr) -%}
    (pmod(dayofweek({{ date_expr }}) + 5, 7) + 1)
{%- endmacro %}

{#- True when a string matches a regular expression (RE2 syntax on DuckDB, Java on
    Spark). -#}
{% macro regex_matches(string_expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'coadv')(string_expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(string_expr, pattern) -%}
    regexp_matches({{ string_expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_matches(string_expr, pattern) -%}
    ({{ string_expr }} rlike '{{ pattern }}')
{%- endmacro %}

{#- The type of an instant: timestamp with time zone on DuckDB; Spark's timestamp is
    already an instant (stored in UTC, shown in the session zone). -#}
{% macro type_instant() -%}
    {{ return(adapter.dispatch('type_instant', 'coadv')()) }}
{%- endmacro %}

{% macro default__type_instant() -%}
    timestamp with time zone
{%- endmacro %}

{% macro spark__type_instant() -%}
    timestamp
{%- endmacro %}
