{#- Keyed hash of an identifier that must survive staging (employee_id, member_id):
    sha256 of '<key>|<value>'. The key comes from COADV_HASH_KEY; the default is a
    development key and production sets its own, so that hashes cannot be recomputed
    from a guessed identifier without it. -#}
{% macro keyed_hash(column) -%}
    {{ return(adapter.dispatch('keyed_hash', 'coadv')(column)) }}
{%- endmacro %}

{% macro default__keyed_hash(column) -%}
    sha256('{{ env_var("COADV_HASH_KEY", "coadv-dev-key") }}' || '|' || {{ column }})
{%- endmacro %}

{% macro spark__keyed_hash(column) -%}
    sha2(
        concat('{{ env_var("COADV_HASH_KEY", "coadv-dev-key") }}', '|', {{ column }}),
        256
    )
{%- endmacro %}
