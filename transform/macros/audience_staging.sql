{#- The staging select of one audience stream (tap-tiktok-ads docs/reports.md): renamed and
    typed like the daily report staging models, one row per raw row. `object_id` is the id
    column of the data level, `breakdown` the audience dimensions of the stream, `names` the
    attribute columns it carries. Metrics stay NULL where TikTok sent "-". -#}
{% macro tiktok_ads_audience_staging(stream, object_id, breakdown, names) %}
with source as (

    select * from {{ source('tiktok_ads_audience', stream) }}

),

renamed as (

    select
        cast(data_source_id as integer) as data_source_id,
        cast(advertiser_id as text) as advertiser_id,
        cast({{ object_id }} as text) as {{ object_id | replace('adgroup_id', 'ad_group_id') }},
        cast(stat_date as date) as stat_date,
        {%- for column in breakdown %}
        cast({{ column }} as text) as {{ column }},
        {%- endfor %}
        {%- for column in names %}
        cast({{ column }} as text) as {{ column | replace('adgroup_name', 'ad_group_name') }},
        {%- endfor %}
        {{ tiktok_ads_delivery_metrics() }}
        cast(real_time_conversion as numeric) as real_time_conversions,
        cast(result as numeric) as results,
        cast(cost_per_result as numeric) as cost_per_result,
        cast(_sdc_batched_at as timestamp) as _sdc_batched_at,
        _sdc_sequence
    from source
    where data_source_id is not null

)

select * from renamed
{% endmacro %}
