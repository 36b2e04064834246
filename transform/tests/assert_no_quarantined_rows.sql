{#- Rows held back because they do not fit a platform table (the quarantine, see
    quarantine_batches_that_do_not_fit) fail the build of the data source they belong to:
    the pipeline run of data source N (TAP_TIKTOK_ADS_DATA_SOURCE_ID=N, as `meltano run` and
    the sync runner set it) fails on N's rows only, so one data source's bad row never fails
    another's run. Without a data source id (a plain `dbt build`) any quarantined row fails,
    except in the sync runner's one build per cycle (`--vars 'quarantine_severity: warn'`),
    which then reads the quarantine and fails only the data sources it names. -#}
{{ config(severity=var('quarantine_severity', 'error')) }}
-- depends_on: {{ ref('advertiser_info') }}
-- depends_on: {{ ref('campaign_performance') }}
-- depends_on: {{ ref('ad_group_performance') }}
{%- set data_source_id = env_var('TAP_TIKTOK_ADS_DATA_SOURCE_ID', '') | trim %}

select data_source_id, table_name, row_key, column_name, value, reason, rows_affected
from {{ quarantine_relation() }}
{%- if data_source_id %}
where data_source_id = {{ data_source_id | int }}
{%- endif %}
