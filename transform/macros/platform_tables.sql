{#-
  The platform's tables as the database catalog describes them. Their DDL is the platform
  contract (bridge/dra_tiktok_ads/sql/platform_contract.sql, macro dra_platform_contract_sql),
  run on-run-start; the upsert and the type-fit checks read column names, types, NOT NULL and
  the UNIQUE key from the catalog, so the columns are written down only there.

  Why on-run-start and not in each model: created inside a model, each CREATE TABLE ...
  REFERENCES dra_data_sources holds a lock on dra_data_sources until that model commits, so
  on a first build the platform tables were created one model after another (3.7 s of
  waiting at the large benchmark size). The contract creates them all, in one short
  transaction, before any model runs.
-#}

{#- {'columns': [{'name', 'type', 'not_null', 'generated'}, ...] in table order,
    'unique_key': the columns of the table's UNIQUE constraint, or none}.
    'type' is PostgreSQL's spelling with varchar for character varying (`numeric(12,2)`,
    `varchar(50)`, `bigint`, ...); 'generated' marks serial columns (default nextval), which
    the upsert never writes. -#}
{% macro platform_table_catalog(relation) %}
    {%- set oid = "to_regclass('" ~ relation.include(database=false) ~ "')" -%}
    {%- set found = run_query(
        "select a.attname::text, replace(format_type(a.atttypid, a.atttypmod),"
        ~ " 'character varying', 'varchar'), a.attnotnull,"
        ~ " coalesce(pg_get_expr(d.adbin, d.adrelid) like 'nextval(%', false)"
        ~ " from pg_attribute a left join pg_attrdef d"
        ~ " on d.adrelid = a.attrelid and d.adnum = a.attnum"
        ~ " where a.attrelid = " ~ oid ~ " and a.attnum > 0 and not a.attisdropped"
        ~ " order by a.attnum") -%}
    {%- set columns = [] -%}
    {%- for row in found.rows -%}
        {%- do columns.append({'name': row[0], 'type': row[1], 'not_null': row[2], 'generated': row[3]}) -%}
    {%- endfor -%}
    {%- set unique = run_query(
        "select string_agg(a.attname::text, ',' order by key.position)"
        ~ " from pg_constraint c"
        ~ " cross join lateral unnest(c.conkey) with ordinality as key (attnum, position)"
        ~ " join pg_attribute a on a.attrelid = c.conrelid and a.attnum = key.attnum"
        ~ " where c.conrelid = " ~ oid ~ " and c.contype = 'u'"
        ~ " group by c.oid order by c.oid") -%}
    {%- if unique.rows | length > 1 -%}
        {{ exceptions.raise_compiler_error(
            relation ~ " has " ~ (unique.rows | length) ~ " UNIQUE constraints; the upsert needs one"
            ~ " (see bridge/dra_tiktok_ads/sql/platform_contract.sql).") }}
    {%- endif -%}
    {{ return({
        'columns': columns,
        'unique_key': unique.rows[0][0].split(',') if unique.rows else none,
    }) }}
{% endmacro %}

{#- A predicate that is true when `column` does not fit the platform type `type` (as
    platform_table_catalog spells it). Values that do not fit are never rounded away or
    truncated: that data source's batch is held back (quarantine_batches_that_do_not_fit).
    NUMERIC keeps rounding to its scale, as PostgreSQL does. -#}
{% macro platform_type_violation(column, type) -%}
    {%- if type.startswith('numeric(') -%}
        {%- set precision, scale = type[8:-1].split(',') -%}
        abs(round({{ column }}::numeric, {{ scale | trim }})) >= power(10::numeric, {{ precision | int - scale | int }})
    {%- elif type == 'integer' -%}
        {{ column }}::numeric not between -2147483648 and 2147483647
    {%- elif type == 'bigint' -%}
        {{ column }}::numeric not between -9223372036854775808 and 9223372036854775807
    {%- elif type.startswith('varchar(') -%}
        char_length({{ column }}::text) > {{ type[8:-1] }}
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- {column, reason, predicate} per way a batch row can break the platform's columns: NULL in
    a NOT NULL column, a value beyond the column's type. -#}
{% macro platform_fit_checks(columns) %}
    {%- set checks = [] -%}
    {%- for column in columns -%}
        {%- if column.not_null -%}
            {%- do checks.append({'column': column.name, 'reason': 'is NULL (column is NOT NULL)',
                                  'predicate': column.name ~ ' is null'}) -%}
        {%- endif -%}
        {%- set violation = platform_type_violation(column.name, column.type) -%}
        {%- if violation != 'false' -%}
            {%- do checks.append({'column': column.name, 'reason': 'does not fit ' ~ (column.type | upper),
                                  'predicate': violation}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(checks) }}
{% endmacro %}

{#- Rows of data sources missing from dra_data_sources leave the batch (never inserted: a
    deleted data source stays deleted); their ids are noted so that forget_deleted_data_sources
    can remove their raw rows once the registry shows them deleted. -#}
{% macro set_aside_unregistered_data_sources(batch_relation) %}
    {% call statement('set_aside_unregistered') -%}
        with dropped as (
            delete from {{ batch_relation }} as batch
            where not exists (select 1 from dra_data_sources ds where ds.id = batch.data_source_id)
            returning batch.data_source_id
        )
        insert into {{ unregistered_relation() }} (data_source_id)
        select distinct data_source_id from dropped where data_source_id is not null
        on conflict (data_source_id) do nothing
    {%- endcall %}
{% endmacro %}

{#- One data source's bad row must not block the others (nor be half-loaded): every data
    source whose batch has a value that does not fit the platform's columns is taken out of
    the batch as a whole, and the offending values (the first 20 per data source and problem,
    with the count) replace this table's entries in the quarantine table. Its watermark does
    not move, so the next build checks its rows again: once fixed in the raw layer (TikTok
    sends the corrected value on a later sync), they load and the entries go. The platform
    types come from the catalog (platform_table_catalog), i.e. from the platform contract. -#}
{% macro quarantine_batches_that_do_not_fit(batch_relation, target_relation, columns, match_key) %}
    {%- set checks = platform_fit_checks(columns) -%}
    {%- set table_name = target_relation.schema ~ '.' ~ target_relation.identifier -%}
    {%- set key_columns = match_key | reject('equalto', 'data_source_id') | list -%}
    {% call statement('quarantine') -%}
        delete from {{ quarantine_relation() }} where table_name = '{{ table_name }}';
        insert into {{ quarantine_relation() }}
            (data_source_id, table_name, row_key, column_name, value, reason, rows_affected)
        select data_source_id, '{{ table_name }}', row_key, column_name, value, reason, rows_affected
        from (
            select
                batch.data_source_id,
                concat_ws(', '
                {%- for name in key_columns -%}
                    , '{{ name }}=' || coalesce(batch.{{ name }}::text, 'NULL')
                {%- endfor %}) as row_key,
                problem.column_name,
                problem.value,
                problem.reason,
                count(*) over per_problem as rows_affected,
                row_number() over (per_problem order by
                    {%- for name in key_columns %} batch.{{ name }}{% if not loop.last %},{% endif %}{% endfor %}) as listed
            from {{ batch_relation }} as batch
            cross join lateral (values
                {%- for check in checks %}
                ('{{ check.column }}', '{{ check.reason }}', {{ check.predicate }}, {{ check.column }}::text)
                {%- if not loop.last %},{% endif %}
                {%- endfor %}
            ) as problem (column_name, reason, is_problem, value)
            {#- One scan of the batch (a full build's has millions of rows): only rows with
                some problem reach the lateral join. -#}
            where (
                {%- for check in checks %}({{ check.predicate }}){% if not loop.last %} or {% endif %}{% endfor -%}
            )
              and problem.is_problem
            window per_problem as (partition by batch.data_source_id, problem.column_name, problem.reason)
        ) as found
        where listed <= 20
    {%- endcall %}
    {%- set held = run_query(
        "select data_source_id, column_name, reason, max(rows_affected), min(row_key)"
        ~ " from " ~ quarantine_relation() ~ " where table_name = '" ~ table_name ~ "'"
        ~ " group by 1, 2, 3 order by 1, 2, 3") -%}
    {%- if held.rows | length > 0 -%}
        {#- Only then: another pass over the batch (millions of rows in a full build). -#}
        {% call statement('hold_back') -%}
            delete from {{ batch_relation }} as batch
            where batch.data_source_id in (
                select held.data_source_id from {{ quarantine_relation() }} as held
                where held.table_name = '{{ table_name }}'
            )
        {%- endcall %}
    {%- endif -%}
    {%- for row in held.rows -%}
        {%- do exceptions.warn(
            "Quarantined data source " ~ row[0] ~ " in " ~ table_name ~ ": " ~ row[1] ~ " " ~ row[2]
            ~ " in " ~ row[3] ~ " row(s), e.g. key " ~ row[4] ~ "; nothing was written for data"
            ~ " source " ~ row[0] ~ " in this table (the others loaded). Rows and values: "
            ~ quarantine_relation() ~ ".") -%}
    {%- endfor -%}
{% endmacro %}
