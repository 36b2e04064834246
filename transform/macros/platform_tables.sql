{#-
  The platform's TikTok tables, column by column, exactly as in dra_tiktok_ads.sql.
  The DDL, the upsert and the type-fit checks are all generated from this one spec.
  `id SERIAL PRIMARY KEY` and `data_source_id INTEGER NOT NULL REFERENCES dra_data_sources(id)
  ON DELETE CASCADE` open every table; `conflict_key` is the table's UNIQUE constraint (none
  for advertiser_info, which the upsert matches on `match_key` instead).
-#}
{% macro platform_table_specs() %}
    {%- set specs = {
        'advertiser_info': {
            'columns': [
                {'name': 'advertiser_id', 'type': 'VARCHAR(50)', 'not_null': true},
                {'name': 'advertiser_name', 'type': 'VARCHAR(512)'},
                {'name': 'currency', 'type': 'VARCHAR(10)'},
                {'name': 'timezone', 'type': 'VARCHAR(50)'},
                {'name': 'synced_at', 'type': 'TIMESTAMP'},
            ],
            'match_key': ['data_source_id', 'advertiser_id'],
            'conflict_key': none,
            'index': none,
        },
        'campaign_performance': {
            'columns': [
                {'name': 'stat_date', 'type': 'DATE', 'not_null': true},
                {'name': 'campaign_id', 'type': 'VARCHAR(50)', 'not_null': true},
                {'name': 'campaign_name', 'type': 'VARCHAR(512)'},
                {'name': 'objective_type', 'type': 'VARCHAR(100)'},
                {'name': 'status', 'type': 'VARCHAR(50)'},
                {'name': 'spend', 'type': 'NUMERIC(12,2)', 'default': '0'},
                {'name': 'impressions', 'type': 'BIGINT', 'default': '0'},
                {'name': 'clicks', 'type': 'INTEGER', 'default': '0'},
                {'name': 'ctr', 'type': 'NUMERIC(8,4)', 'default': '0'},
                {'name': 'cpm', 'type': 'NUMERIC(10,4)', 'default': '0'},
                {'name': 'cpc', 'type': 'NUMERIC(10,4)', 'default': '0'},
                {'name': 'conversions', 'type': 'INTEGER', 'default': '0'},
                {'name': 'cost_per_conversion', 'type': 'NUMERIC(10,2)', 'default': '0'},
                {'name': 'conversion_rate', 'type': 'NUMERIC(8,4)', 'default': '0'},
                {'name': 'video_views', 'type': 'BIGINT', 'default': '0'},
                {'name': 'video_play_actions', 'type': 'BIGINT', 'default': '0'},
                {'name': 'reach', 'type': 'BIGINT', 'default': '0'},
            ],
            'match_key': ['data_source_id', 'stat_date', 'campaign_id'],
            'conflict_key': ['data_source_id', 'stat_date', 'campaign_id'],
            'index': ['data_source_id', 'stat_date'],
        },
        'ad_group_performance': {
            'columns': [
                {'name': 'stat_date', 'type': 'DATE', 'not_null': true},
                {'name': 'campaign_id', 'type': 'VARCHAR(50)', 'not_null': true},
                {'name': 'ad_group_id', 'type': 'VARCHAR(50)', 'not_null': true},
                {'name': 'ad_group_name', 'type': 'VARCHAR(512)'},
                {'name': 'spend', 'type': 'NUMERIC(12,2)', 'default': '0'},
                {'name': 'impressions', 'type': 'BIGINT', 'default': '0'},
                {'name': 'clicks', 'type': 'INTEGER', 'default': '0'},
                {'name': 'conversions', 'type': 'INTEGER', 'default': '0'},
                {'name': 'cpl', 'type': 'NUMERIC(10,2)', 'default': '0'},
            ],
            'match_key': ['data_source_id', 'stat_date', 'ad_group_id'],
            'conflict_key': ['data_source_id', 'stat_date', 'ad_group_id'],
            'index': ['data_source_id', 'stat_date'],
        },
    } -%}
    {{ return(specs) }}
{% endmacro %}

{% macro platform_table_spec(table_name) %}
    {%- set specs = platform_table_specs() -%}
    {%- if table_name not in specs -%}
        {{ exceptions.raise_compiler_error(
            "upsert_into_platform_table: no platform spec for '" ~ table_name
            ~ "'; known tables: " ~ (specs.keys() | list | join(', '))) }}
    {%- endif -%}
    {{ return(specs[table_name]) }}
{% endmacro %}

{#- Columns the upsert writes: data_source_id plus the spec's columns (never id). -#}
{% macro platform_table_write_columns(spec) -%}
    {%- set names = ['data_source_id'] -%}
    {%- for column in spec.columns -%}{%- do names.append(column.name) -%}{%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- CREATE TABLE IF NOT EXISTS with the platform's exact DDL. Constraints stay unnamed, as in
    dra_tiktok_ads.sql, so PostgreSQL names them and re-creating never collides. -#}
{% macro platform_table_ddl(relation, spec) %}
create table if not exists {{ relation }} (
  id SERIAL PRIMARY KEY,
  data_source_id INTEGER NOT NULL REFERENCES dra_data_sources(id) ON DELETE CASCADE
  {%- for column in spec.columns %},
  {{ column.name }} {{ column.type }}
    {%- if column.get('not_null') %} NOT NULL{% endif %}
    {%- if column.get('default') is not none %} DEFAULT {{ column.default }}{% endif %}
  {%- endfor %}
  {%- if spec.conflict_key %},
  UNIQUE({{ spec.conflict_key | join(', ') }})
  {%- endif %}
);
{%- if spec.index %}
create index if not exists {{ relation.identifier }}_{{ spec.index | join('_') }}_idx
  on {{ relation }} ({{ spec.index | join(', ') }});
{%- endif %}
{% endmacro %}

{#- A predicate that is true when `column` does not fit the platform type `type`.
    Values that do not fit are never rounded away or truncated: the run stops (see
    assert_batch_fits_platform_types). NUMERIC keeps rounding to its scale, as PostgreSQL does. -#}
{% macro platform_type_violation(column, type) -%}
    {%- set upper_type = type | upper -%}
    {%- if upper_type.startswith('NUMERIC(') -%}
        {%- set precision, scale = upper_type[8:-1].split(',') -%}
        abs(round({{ column }}::numeric, {{ scale | trim }})) >= power(10::numeric, {{ precision | int - scale | int }})
    {%- elif upper_type == 'INTEGER' -%}
        {{ column }}::numeric not between -2147483648 and 2147483647
    {%- elif upper_type == 'BIGINT' -%}
        {{ column }}::numeric not between -9223372036854775808 and 9223372036854775807
    {%- elif upper_type.startswith('VARCHAR(') -%}
        char_length({{ column }}::text) > {{ upper_type[8:-1] }}
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{% macro assert_batch_fits_platform_types(batch_relation, target_relation, spec) %}
    {%- set checks = [] -%}
    {%- for column in [{'name': 'data_source_id', 'type': 'INTEGER', 'not_null': true}] + spec.columns -%}
        {%- if column.get('not_null') -%}
            {%- do checks.append((column.name ~ ' is NULL (column is NOT NULL)', column.name ~ ' is null')) -%}
        {%- endif -%}
        {%- set violation = platform_type_violation(column.name, column.type) -%}
        {%- if violation != 'false' -%}
            {%- do checks.append((column.name ~ ' does not fit ' ~ column.type, violation)) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- One scan of the batch for every check: the full build's batch has millions of rows. -#}
    {%- set query -%}
        select problem, row_count, example_key
        from (
            select
            {%- for label, predicate in checks %}
                count(*) filter (where {{ predicate }}) as problem_{{ loop.index }}_rows,
                min(concat_ws('/', {{ spec.match_key | join(', ') }})) filter (where {{ predicate }})
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
            ~ " (nothing was written; key = " ~ (spec.match_key | join('/')) ~ "):\n"
            ~ (lines | join('\n'))
            ~ "\nCheck the raw rows in schema " ~ var('raw_schema') ~ "; the platform DDL is fixed.") }}
    {%- endif -%}
{% endmacro %}

{#- on-run-start: the platform tables exist before any model runs. Created inside a model,
    each CREATE TABLE ... REFERENCES dra_data_sources holds a lock on dra_data_sources until
    that model commits, so on a first build the platform tables were created one model after
    another (3.7 s of waiting at the large benchmark size). -#}
{% macro create_platform_tables() %}
select pg_advisory_xact_lock(hashtext('dra_tiktok_ads.platform_tables'));
create schema if not exists {{ generate_schema_name('dra_tiktok_ads', none) }};
{%- for name, spec in platform_table_specs().items() %}
{{ platform_table_ddl(api.Relation.create(
    database=target.database,
    schema=generate_schema_name('dra_tiktok_ads', none),
    identifier=name), spec) }}
{%- endfor %}
{% endmacro %}
