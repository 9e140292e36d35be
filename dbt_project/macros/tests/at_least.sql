{#- Fails for every row whose column is below `min_value` (nulls pass: not_null tests
    them). -#}
{% test at_least(model, column_name, min_value) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }}
{% endtest %}
