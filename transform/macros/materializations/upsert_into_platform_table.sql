{#-
  upsert_into_platform_table: load a batch into one of the platform's tables in place.

  - The table comes from the platform contract (bridge/dra_tiktok_ads/sql/platform_contract.sql),
    created on-run-start, and is never created, dropped or swapped here: the platform owns it,
    other tables reference it, ids stay stable. Its columns, types, NOT NULL and UNIQUE key
    are read from the catalog (platform_table_catalog); the model selects every column but
    the serial id, plus _sdc_batched_at.
  - The model's SQL selects the batch: raw rows loaded since this table's watermark for
    their data source (all rows on --full-refresh / var reprocess_all), one row per key.
  - Rows of data sources missing from dra_data_sources are skipped, never inserted (a data
    source deleted by the platform stays deleted; its cascade already removed its rows), and
    their ids noted for forget_deleted_data_sources, which removes their raw rows.
  - A data source whose batch holds a value that does not fit the platform's types (or a NULL
    in a NOT NULL column) is quarantined: none of its batch is written and its watermark stays,
    the rows and reasons go to the quarantine table; the other data sources load as usual.
  - Insert new keys, update keys whose values changed (unchanged rows are not rewritten),
    then advance the watermark, all in one transaction. Keys match on the table's UNIQUE
    constraint (ON CONFLICT), or, for a table without one, on the model's `match_key` config.
-#}
{% materialization upsert_into_platform_table, adapter='postgres' %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set batch_relation = api.Relation.create(identifier=this.identifier ~ '__dra_batch', type='table') -%}
    {%- set table_name = target_relation.schema ~ '.' ~ target_relation.identifier -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set catalog = platform_table_catalog(target_relation) -%}
    {%- if not catalog.columns -%}
        {{ exceptions.raise_compiler_error(
            table_name ~ " does not exist: the platform contract"
            ~ " (bridge/dra_tiktok_ads/sql/platform_contract.sql) creates the platform tables"
            ~ " on-run-start; a new platform table needs its DDL there.") }}
    {%- endif -%}
    {%- set unique_key = catalog.unique_key -%}
    {%- set match_key = config.get('match_key') or unique_key -%}
    {%- if not match_key -%}
        {{ exceptions.raise_compiler_error(
            table_name ~ " has no UNIQUE constraint: set the model's match_key config to the"
            ~ " columns that identify a row.") }}
    {%- endif -%}
    {%- set columns = catalog.columns | rejectattr('generated') | list -%}
    {%- set write_columns = columns | map(attribute='name') | list -%}
    {%- set value_columns = write_columns | reject('in', match_key) | list -%}

    {% call statement('stage_batch') -%}
        {#- The planner underestimates the deduplicated batch (window function over views)
            by orders of magnitude and picks a merge join on data_source_id alone; at 1.8M
            ad-group rows that ran for more than 8 minutes instead of 14 s with a hash join
            (benchmarks, docs/performance.md). Only for this transaction. -#}
        set local enable_mergejoin = off;
        {#- JIT compiles these one-off ETL statements for longer than it saves (0.7 s of
            compilation for the 5 s full-build stage). -#}
        set local jit = off;
        create temporary table {{ batch_relation }} on commit drop as
        select batch.*
        from ({{ sql }}) as batch
    {%- endcall %}
    {{ set_aside_unregistered_data_sources(batch_relation) }}

    {%- set batch_columns = platform_table_catalog(batch_relation).columns | map(attribute='name') | list -%}
    {%- set unselected = write_columns | reject('in', batch_columns) | list -%}
    {%- if unselected -%}
        {{ exceptions.raise_compiler_error(
            "Model " ~ this.identifier ~ " does not select column(s) " ~ (unselected | join(', '))
            ~ " of " ~ table_name ~ ". The model must"
            ~ " select every column of the table but its serial id; if the table differs from the"
            ~ " platform contract (bridge/dra_tiktok_ads/sql/platform_contract.sql), update the"
            ~ " contract and the model together.") }}
    {%- endif -%}
    {{ quarantine_batches_that_do_not_fit(batch_relation, target_relation, columns, match_key) }}
    {%- set rows_before = estimated_row_count(target_relation) -%}

    {%- if unique_key == match_key %}
        {% call statement('main') -%}
            insert into {{ target_relation }} as existing ({{ write_columns | join(', ') }})
            select {{ write_columns | join(', ') }} from {{ batch_relation }}
            on conflict ({{ unique_key | join(', ') }}) do update set
            {%- for name in value_columns %}
                {{ name }} = excluded.{{ name }}{% if not loop.last %},{% endif %}
            {%- endfor %}
            where (
                {%- for name in value_columns %}existing.{{ name }}{% if not loop.last %}, {% endif %}{% endfor -%}
            ) is distinct from (
                {%- for name in value_columns %}excluded.{{ name }}{% if not loop.last %}, {% endif %}{% endfor -%}
            )
        {%- endcall %}
    {%- else %}
        {#- No UNIQUE constraint on match_key: match on the natural key under a lock
            that blocks concurrent writers (readers are not blocked). -#}
        {% call statement('main') -%}
            lock table {{ target_relation }} in share row exclusive mode;
            update {{ target_relation }} as existing set
            {%- for name in value_columns %}
                {{ name }} = batch.{{ name }}{% if not loop.last %},{% endif %}
            {%- endfor %}
            from {{ batch_relation }} as batch
            where {% for name in match_key %}existing.{{ name }} = batch.{{ name }}{% if not loop.last %} and {% endif %}{% endfor %}
              and (
                {%- for name in value_columns %}existing.{{ name }}{% if not loop.last %}, {% endif %}{% endfor -%}
              ) is distinct from (
                {%- for name in value_columns %}batch.{{ name }}::{{ (columns | selectattr('name', 'equalto', name) | first).type }}{% if not loop.last %}, {% endif %}{% endfor -%}
              );
            insert into {{ target_relation }} ({{ write_columns | join(', ') }})
            select {{ write_columns | join(', ') }} from {{ batch_relation }} as batch
            where not exists (
                select 1 from {{ target_relation }} as existing
                where {% for name in match_key %}existing.{{ name }} = batch.{{ name }}{% if not loop.last %} and {% endif %}{% endfor %}
            );
        {%- endcall %}
    {%- endif %}

    {{ analyze_after_bulk_write(target_relation, rows_before) }}

    {% call statement('advance_watermark') -%}
        insert into {{ watermark_relation() }} as mark (model_name, data_source_id, loaded_through)
        select '{{ this.identifier }}', data_source_id, max(_sdc_batched_at)
        from {{ batch_relation }}
        where _sdc_batched_at is not null
        group by data_source_id
        on conflict (model_name, data_source_id) do update
            set loaded_through = greatest(mark.loaded_through, excluded.loaded_through),
                updated_at = now() at time zone 'UTC'
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- In a platform-table model: keep only raw rows loaded after this table's watermark for
    their data source (minus a safety overlap). Everything on --full-refresh or
    --vars '{reprocess_all: true}'. Rows without _sdc_batched_at are always read. -#}
{% macro loaded_since_watermark(alias) -%}
    {%- if should_full_refresh() or var('reprocess_all', false) -%}
        true
    {%- else -%}
        coalesce({{ alias }}._sdc_batched_at > (
            select mark.loaded_through - interval '{{ var("watermark_overlap_minutes", 0) | int }} minutes'
            from {{ watermark_relation() }} as mark
            where mark.model_name = '{{ this.identifier }}'
              and mark.data_source_id = {{ alias }}.data_source_id
        ), true)
    {%- endif -%}
{%- endmacro %}

{#- The planner's row estimate for a table; -1 when it was never analyzed. -#}
{% macro estimated_row_count(relation) -%}
    {%- set result = run_query("select reltuples from pg_class where oid = '" ~ relation.include(database=false) ~ "'::regclass") -%}
    {{ return(result.columns[0].values()[0] | float) }}
{%- endmacro %}

{#- Statistics right after a bulk write, when it changed more than a tenth of the table (the
    rule autovacuum follows, but autovacuum comes up to a minute later). Without them the
    tests that follow in the same build planned against an empty table: the channel test took
    10 s instead of 0.4 s after a full build. ANALYZE blocks neither readers nor writers. -#}
{% macro analyze_after_bulk_write(relation, rows_before) %}
    {%- set rows_written = load_result('main').response.rows_affected or 0 -%}
    {%- if rows_before < 0 or rows_written > 0.1 * rows_before + 50 -%}
        {% call statement('analyze_' ~ relation.identifier) -%}
            analyze {{ relation }}
        {%- endcall %}
    {%- endif -%}
{% endmacro %}
