{#- Fails for every row whose date column is not the first day of its month. -#}
{% test is_first_of_month(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and extract(day from {{ column_name }}) <> 1
{% endtest %}
