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
create table if not exists {{ quarantine_relation() }} (
    data_source_id integer not null,
    table_name text not null,
    row_key text not null,
    column_name text not null,
    value text,
    reason text not null,
    rows_affected integer not null,
    detected_at timestamp not null default (now() at time zone 'UTC')
);
comment on table {{ quarantine_relation() }} is
    'Raw rows held back because they do not fit a platform table (see docs/transform.md): '
    'per data source and table, its whole batch waits until the values are fixed. '
    'Rewritten by every build of the table; the first 20 rows per problem are listed.';
create table if not exists {{ unregistered_relation() }} (
    data_source_id integer primary key,
    seen_at timestamp not null default (now() at time zone 'UTC')
);
comment on table {{ unregistered_relation() }} is
    'Data source ids found in the raw tables but not in dra_data_sources; '
    'forget_deleted_data_sources removes their raw rows once the registry shows them deleted.';
{% endmacro %}

{#- Raw rows the transform could not load into a platform table, with the reason; the sync
    runner reads them (dra_tiktok_ads.sync.problems) to write sync_error_message. -#}
{% macro quarantine_relation() -%}
    {{ target.schema }}.dra_quarantine
{%- endmacro %}

{% macro unregistered_relation() -%}
    {{ target.schema }}.dra_unregistered_data_sources
{%- endmacro %}

{#- A deleted data source's platform rows go with the registry's ON DELETE CASCADE; its raw
    rows in the raw schema are removed here, by the next build. Deleted means: not in
    dra_data_sources although this transform loaded it before (it has a watermark), or
    although the registry handed out its id (at most the id sequence's last value: ids above
    it were never registered, and their rows wait, unloaded, until they are). Only ids with
    such evidence are looked for, so a build scans the raw tables only after a deletion. -#}
{% macro forget_deleted_data_sources() %}
{%- if execute %}
select pg_advisory_xact_lock(hashtext('dra_tiktok_ads.forget_deleted_data_sources'));
do $dra$
declare
    issued bigint := 0;
    gone integer[];
    raw_table text;
begin
    begin
        issued := coalesce(pg_sequence_last_value(
            pg_get_serial_sequence('dra_data_sources', 'id')::regclass), 0);
    exception when others then
        issued := 0;  -- no serial id or no right to read it: the watermarks still count
    end;
    select array_agg(candidate.data_source_id) into gone
    from (
        select data_source_id from {{ watermark_relation() }}
        union
        select data_source_id from {{ unregistered_relation() }} where data_source_id <= issued
    ) as candidate
    where not exists (select 1 from dra_data_sources ds where ds.id = candidate.data_source_id);
    if gone is null then
        return;
    end if;
    foreach raw_table in array array[
        {%- for name in raw_table_names() %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ] loop
        if to_regclass(format('%I.%I', '{{ var("raw_schema") }}', raw_table)) is not null then
            execute format('delete from %I.%I where data_source_id = any($1)',
                '{{ var("raw_schema") }}', raw_table) using gone;
        end if;
    end loop;
    delete from {{ watermark_relation() }} where data_source_id = any(gone);
    delete from {{ unregistered_relation() }} where data_source_id = any(gone);
    delete from {{ quarantine_relation() }} where data_source_id = any(gone);
    raise notice 'Removed the raw rows of deleted data source(s) %', gone;
end
$dra$;
{%- else %}
select 1
{%- endif %}
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
