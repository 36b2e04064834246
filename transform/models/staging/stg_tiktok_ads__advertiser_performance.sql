{#- Raw advertiser report rows (AUCTION_ADVERTISER), renamed and typed; one row per raw row.
    cash_spend + voucher_spend = spend (TikTok serves the split at this level only). Off unless
    the dbt var tiktok_ads_extra_streams is true. -#}
{{ config(enabled=var('tiktok_ads_extra_streams', false)) }}

with source as (

    select * from {{ source('tiktok_ads', 'advertiser_performance') }}

),

renamed as (

    select
        cast(data_source_id as integer) as data_source_id,
        cast(advertiser_id as text) as advertiser_id,
        cast(stat_date as date) as stat_date,
        cast(advertiser_name as text) as advertiser_name,
        {{ tiktok_ads_delivery_metrics() }}
        cast(cash_spend as numeric) as cash_spend,
        cast(voucher_spend as numeric) as voucher_spend,
        cast(reach as numeric) as reach,
        cast(frequency as numeric) as frequency,
        cast(video_play_actions as numeric) as video_views,
        cast(video_watched_2s as numeric) as video_views_2s,
        cast(video_watched_6s as numeric) as video_views_6s,
        cast(_sdc_batched_at as timestamp) as _sdc_batched_at,
        _sdc_sequence,
        _sdc_deleted_at is not null as is_deleted_in_source
    from source
    where data_source_id is not null

)

select * from renamed
