{#- A custom schema is used verbatim: the platform reads `dra_tiktok_ads`, not
    `<target schema>_dra_tiktok_ads` (dbt's default). Everything else goes to the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
