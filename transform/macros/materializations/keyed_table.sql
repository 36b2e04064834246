{#-
  keyed_table: a dbt-internal table kept in place and refreshed by key (delete + insert of
  the keys in the batch). Like an incremental model, but it never renames or drops the
  table, so the views that read it survive every run, and two pipelines building at once
  simply take turns (model lock from serialize_across_runs) - including the very first run,
  which dbt's built-in incremental materialization cannot do. --full-refresh truncates it
  (still no drop) and reloads everything. Column changes need a manual DROP.
-#}
{% materialization keyed_table, adapter='postgres' %}
    {%- set unique_key = config.require('unique_key') -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set batch_relation = api.Relation.create(identifier=this.identifier ~ '__dra_batch', type='table') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('stage_batch') -%}
        create temporary table {{ batch_relation }} on commit drop as {{ sql }}
    {%- endcall %}

    {% call statement('create_if_absent') -%}
        create table if not exists {{ target_relation }} as
        select * from {{ batch_relation }} with no data;
        {%- if should_full_refresh() %}
        truncate table {{ target_relation }};
        {%- endif %}
    {%- endcall %}

    {% call statement('main') -%}
        delete from {{ target_relation }} as existing
        using {{ batch_relation }} as batch
        where {% for name in unique_key %}existing.{{ name }} = batch.{{ name }}{% if not loop.last %} and {% endif %}{% endfor %};
        insert into {{ target_relation }} select * from {{ batch_relation }};
    {%- endcall %}

    {% do persist_docs(target_relation, model) %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- In a keyed_table model: rows loaded after the newest `loaded_at` already in the table
    (everything on --full-refresh, or when the table does not exist yet). -#}
{% macro loaded_since_table_watermark(column) -%}
    {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) if execute else none -%}
    {%- if existing is none or should_full_refresh() or var('reprocess_all', false) -%}
        true
    {%- else -%}
        coalesce({{ column }} > (
            select max(loaded_at) - interval '{{ var("watermark_overlap_minutes", 0) | int }} minutes'
            from {{ this }}
        ), true)
    {%- endif -%}
{%- endmacro %}
