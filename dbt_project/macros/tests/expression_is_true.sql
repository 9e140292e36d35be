{#- Fails for every row where `expression` is false (null counts as passing only when
    `allow_null` is true). -#}
{% test expression_is_true(model, expression, allow_null=false) %}
select *
from {{ model }}
where not ({{ expression }})
    {%- if not allow_null %} or ({{ expression }}) is null{% endif %}
{% endtest %}
