{#- Spend, counts and ratios are never negative (NULL is allowed; not_null says otherwise). -#}
{% test non_negative(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
