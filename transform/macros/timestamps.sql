{#- A timestamp column of a raw table as UTC `timestamp without time zone`. target-postgres
    writes _sdc_* as timestamp (already UTC wall clock); other loaders may use timestamptz,
    which must be converted explicitly rather than through the session time zone. -#}
{% macro utc_timestamp(relation, column_name) -%}
    {%- set ns = namespace(with_time_zone=false) -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation)
                if column.name == column_name and column.data_type == 'timestamp with time zone' -%}
            {%- set ns.with_time_zone = true -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if ns.with_time_zone -%}
        ({{ column_name }} at time zone 'UTC')
    {%- else -%}
        cast({{ column_name }} as timestamp)
    {%- endif -%}
{%- endmacro %}
