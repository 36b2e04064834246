{#- Raw campaign report rows, renamed and typed; one row per raw row. Deduplication to the
    platform grain happens in the mart, after the watermark filter, so a daily run only
    ranks the rows it loads. Metrics stay NULL where TikTok sent "-". -#}
with source as (

    select * from {{ source('tiktok_ads', 'campaign_performance') }}

),

renamed as (

    select
        cast(data_source_id as integer) as data_source_id,
        cast(advertiser_id as text) as advertiser_id,
        cast(campaign_id as text) as campaign_id,
        cast(stat_date as date) as stat_date,
        cast(campaign_name as text) as campaign_name,
        cast(objective_type as text) as objective_type,
        {{ tiktok_ads_delivery_metrics() }}
        cast(video_play_actions as numeric) as video_play_actions,
        cast(video_watched_2s as numeric) as video_watched_2s,
        cast(video_watched_6s as numeric) as video_watched_6s,
        cast(reach as numeric) as reach,
        cast(frequency as numeric) as frequency,
        cast(_sdc_batched_at as timestamp) as _sdc_batched_at,
        _sdc_sequence,
        _sdc_deleted_at is not null as is_deleted_in_source
    from source
    where data_source_id is not null

)

select * from renamed
