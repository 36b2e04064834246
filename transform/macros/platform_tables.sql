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
    truncated: the run stops (see assert_batch_fits_platform_types). NUMERIC keeps rounding to
    its scale, as PostgreSQL does. -#}
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

{#- (label, predicate) per way a batch row can break the platform's columns: NULL in a NOT
    NULL column, a value beyond the column's type. -#}
{% macro platform_fit_checks(columns) %}
    {%- set checks = [] -%}
    {%- for column in columns -%}
        {%- if column.not_null -%}
            {%- do checks.append((column.name ~ ' is NULL (column is NOT NULL)', column.name ~ ' is null')) -%}
        {%- endif -%}
        {%- set violation = platform_type_violation(column.name, column.type) -%}
        {%- if violation != 'false' -%}
            {%- do checks.append((column.name ~ ' does not fit ' ~ (column.type | upper), violation)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(checks) }}
{% endmacro %}

{% macro assert_batch_fits_platform_types(batch_relation, target_relation, columns, match_key) %}
    {%- set checks = platform_fit_checks(columns) -%}
    {#- One scan of the batch for every check: the full build's batch has millions of rows. -#}
    {%- set query -%}
        select problem, row_count, example_key
        from (
            select
            {%- for label, predicate in checks %}
                count(*) filter (where {{ predicate }}) as problem_{{ loop.index }}_rows,
                min(concat_ws('/', {{ match_key | join(', ') }})) filter (where {{ predicate }})
                    as problem_{{ loop.index }}_key{% if not loop.last %},{% endif %}
            {%- endfor %}
            from {{ batch_relation }}
        ) as counts
        cross join lateral (values
            {%- for label, predicate in checks %}
            ('{{ label }}', problem_{{ loop.index }}_rows, problem_{{ loop.index }}_key){% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as problems (problem, row_count, example_key)
        where row_count > 0
    {%- endset -%}
    {%- set problems = run_query(query) -%}
    {%- if problems.rows | length > 0 -%}
        {%- set lines = [] -%}
        {%- for row in problems.rows -%}
            {%- do lines.append('  - ' ~ row[0] ~ ': ' ~ row[1] ~ ' row(s), e.g. key ' ~ row[2]) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "Refusing to load " ~ target_relation ~ ": values would not fit the platform's column types"
            ~ " (nothing was written; key = " ~ (match_key | join('/')) ~ "):\n"
            ~ (lines | join('\n'))
            ~ "\nCheck the raw rows in schema " ~ var('raw_schema') ~ "; the platform DDL is fixed.") }}
    {%- endif -%}
{% endmacro %}
