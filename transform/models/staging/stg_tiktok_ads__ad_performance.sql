{#- Raw ad report rows (AUCTION_AD), renamed and typed; one row per raw row (upserts keep one
    per key). Metrics stay NULL where TikTok sent "-". Off unless the dbt var
    tiktok_ads_extra_streams is true. -#}
{{ config(enabled=var('tiktok_ads_extra_streams', false)) }}

with source as (

    select * from {{ source('tiktok_ads', 'ad_performance') }}

),

renamed as (

    select
        cast(data_source_id as integer) as data_source_id,
        cast(advertiser_id as text) as advertiser_id,
        cast(ad_id as text) as ad_id,
        cast(adgroup_id as text) as ad_group_id,
        cast(campaign_id as text) as campaign_id,
        cast(stat_date as date) as stat_date,
        cast(ad_name as text) as ad_name,
        cast(ad_text as text) as ad_text,
        {{ tiktok_ads_delivery_metrics() }}
        cast(reach as numeric) as reach,
        cast(frequency as numeric) as frequency,
        cast(video_play_actions as numeric) as video_views,
        cast(video_watched_2s as numeric) as video_views_2s,
        cast(video_watched_6s as numeric) as video_views_6s,
        cast(video_views_p25 as numeric) as video_views_p25,
        cast(video_views_p50 as numeric) as video_views_p50,
        cast(video_views_p75 as numeric) as video_views_p75,
        cast(video_views_p100 as numeric) as video_views_p100,
        cast(average_video_play as numeric) as average_video_play_seconds,
        cast(likes as numeric) as likes,
        cast(comments as numeric) as comments,
        cast(shares as numeric) as shares,
        cast(follows as numeric) as follows,
        cast(profile_visits as numeric) as profile_visits,
        cast(_sdc_batched_at as timestamp) as _sdc_batched_at,
        _sdc_sequence,
        _sdc_deleted_at is not null as is_deleted_in_source
    from source
    where data_source_id is not null

)

select * from renamed
