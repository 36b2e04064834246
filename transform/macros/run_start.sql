{#- dbt-internal bookkeeping lives in the target schema, never in dra_tiktok_ads, whose
    content is fixed by the platform's DDL. -#}
{% macro watermark_relation() -%}
    {{ target.schema }}.dra_load_watermarks
{%- endmacro %}

{% macro create_dbt_internal_objects() %}
select pg_advisory_xact_lock(hashtext('dra_tiktok_ads.internal_objects'));
create schema if not exists {{ target.schema }};
create table if not exists {{ watermark_relation() }} (
    model_name text not null,
    data_source_id integer not null,
    loaded_through timestamp not null,
    updated_at timestamp not null default (now() at time zone 'UTC'),
    primary key (model_name, data_source_id)
);
comment on table {{ watermark_relation() }} is
    'Per platform table and data source: the latest raw _sdc_batched_at already upserted. '
    'Managed by the upsert_into_platform_table materialization; delete rows to reprocess.';
{% endmacro %}

{#- The raw tables are created by target-postgres on the first run of each stream (even when
    the stream yields no rows). A missing one means the stream was never loaded: stop with a
    message that says what to do instead of failing later on an obscure "relation does not
    exist" inside a view. The tables are the `tiktok_ads` sources (models/sources.yml, which a
    test checks against the tap's stream list), not a second list here. -#}
{% macro raw_table_names() -%}
    {%- set names = [] -%}
    {%- for source in graph.sources.values() if source.source_name == 'tiktok_ads' -%}
        {%- do names.append(source.identifier) -%}
    {%- endfor -%}
    {%- if not names -%}
        {{ exceptions.raise_compiler_error("models/sources.yml declares no tiktok_ads tables") }}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{% macro assert_raw_tables_exist() %}
    {%- if execute -%}
        {%- set found = run_query(
            "select table_name from information_schema.tables where table_schema = '"
            ~ var('raw_schema') ~ "'") -%}
        {%- set present = found.columns[0].values() | list -%}
        {%- set missing = [] -%}
        {%- for name in raw_table_names() if name not in present -%}
            {%- do missing.append(var('raw_schema') ~ '.' ~ name) -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "Raw TikTok table(s) missing: " ~ (missing | join(', '))
                ~ ". The transform needs each default stream of tap-tiktok-ads loaded by"
                ~ " target-postgres at least once (an empty stream still creates its table)."
                ~ " Run `meltano run tap-tiktok-ads target-postgres` first (meltano.yml selects"
                ~ " those streams), or set"
                ~ " the dbt var raw_schema if the loader writes to another schema.") }}
        {%- endif -%}
    {%- endif -%}
    select 1
{% endmacro %}

{#- Several pipelines (one per data source) may run `dbt build` on the same database at the
    same time. Each model takes a transaction-scoped advisory lock on its own name first, so
    two runs never rebuild the same view or write the same table at once; different models
    still run in parallel. Released at commit. -#}
{% macro serialize_across_runs() -%}
    select pg_advisory_xact_lock(hashtext('dra_tiktok_ads.model:{{ this.schema }}.{{ this.identifier }}'))
{%- endmacro %}
