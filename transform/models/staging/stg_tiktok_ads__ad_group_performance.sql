{#- Raw ad group report rows, renamed and typed; one row per raw row (see
    stg_tiktok_ads__campaign_performance for why deduplication happens later). -#}
with source as (

    select * from {{ source('tiktok_ads', 'ad_group_performance') }}

),

renamed as (

    select
        cast(data_source_id as integer) as data_source_id,
        cast(advertiser_id as text) as advertiser_id,
        cast(adgroup_id as text) as ad_group_id,
        cast(campaign_id as text) as campaign_id,
        cast(stat_date as date) as stat_date,
        cast(adgroup_name as text) as ad_group_name,
        {{ tiktok_ads_delivery_metrics() }}
        cast(reach as numeric) as reach,
        cast(_sdc_batched_at as timestamp) as _sdc_batched_at,
        _sdc_sequence,
        _sdc_deleted_at is not null as is_deleted_in_source
    from source
    where data_source_id is not null

)

select * from renamed
