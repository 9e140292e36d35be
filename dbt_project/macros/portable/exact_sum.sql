{#- Order-independent aggregates of floating-point columns. A parallel sum of doubles
    depends on the order in which threads combine partial sums, so two builds of the same
    rows can differ in the last bits. Summing fixed-point decimals is exact in any order;
    the result is cast back to double so the column contracts keep their type. -#}
{% macro exact_sum(expr, scale=6) -%}
    cast(sum(cast({{ expr }} as decimal(38, {{ scale }}))) as double)
{%- endmacro %}

{% macro exact_avg(expr, scale=6) -%}
    cast(avg(cast({{ expr }} as decimal(38, {{ scale }}))) as double)
{%- endmacro %}
