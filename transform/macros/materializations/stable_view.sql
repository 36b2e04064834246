{#-
  stable_view: a view replaced in place, never renamed or dropped on a normal run.

  dbt's built-in view materialization swaps a new view in by renaming and drops the old one
  with CASCADE after committing. Here that would (a) drop the views that depend on it until
  they are rebuilt later in the run (the platform may be querying marketing_channel_daily and
  channel_metrics at that moment) and (b) race when two pipelines run `dbt build` at once.
  CREATE OR REPLACE VIEW keeps dependents and, under the model's advisory lock (pre-hook
  serialize_across_runs), serializes concurrent runs. When the view's columns changed in a way
  CREATE OR REPLACE cannot express (a column removed or renamed), or on --full-refresh, the
  view is dropped and re-created, with CASCADE, in the same transaction.
-#}
{% materialization stable_view, adapter='postgres' %}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set existing_relation = load_cached_relation(this) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set recreate = should_full_refresh() or (existing_relation is not none and not existing_relation.is_view) -%}
    {%- if existing_relation is not none and not recreate -%}
        {%- set old_names = adapter.get_columns_in_relation(existing_relation) | map(attribute='name') | list -%}
        {%- set new_names = get_columns_in_query(sql) | list -%}
        {%- set recreate = new_names[:old_names | length] != old_names -%}
    {%- endif -%}

    {% call statement('main') -%}
        {%- if recreate and existing_relation is not none %}
        drop {{ existing_relation.type }} if exists {{ existing_relation }} cascade;
        {%- endif %}
        create or replace view {{ target_relation }} as (
            {{ sql }}
        );
    {%- endcall %}

    {% do persist_docs(target_relation, model) %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
