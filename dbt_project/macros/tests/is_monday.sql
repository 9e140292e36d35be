{#- Fails for every row whose date column is not a Monday (weeks are named by their
    Monday). -#}
{% test is_monday(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and {{ coadv.iso_weekday(column_name) }} <> 1
{% endtest %}
