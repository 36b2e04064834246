{{ config(materialized='upsert_into_platform_table') }}
{#- dra_tiktok_ads.campaign_performance: one row per data source, day and campaign.
    Reads only raw rows loaded since the last build (see loaded_since_watermark). -#}
with batch as (

    select *
    from {{ ref('stg_tiktok_ads__campaign_performance') }} as report
    where {{ loaded_since_watermark('report') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by data_source_id, stat_date, campaign_id
            order by is_deleted_in_source, _sdc_batched_at desc nulls last, _sdc_sequence desc nulls last
        ) as version_rank
    from batch

),

campaigns as (

    select * from {{ ref('stg_tiktok_ads__campaigns') }}

),

final as (

    select
        latest.data_source_id,
        latest.stat_date,
        latest.campaign_id,
        coalesce(latest.campaign_name, campaigns.campaign_name) as campaign_name,
        coalesce(latest.objective_type, campaigns.objective_type) as objective_type,
        campaigns.campaign_status as status,
        -- "-" from the API: additive measures and ratios become 0, the platform's default
        -- (TikTok sends "-" when there is nothing to count or the denominator is 0).
        coalesce(latest.spend, 0) as spend,
        coalesce(latest.impressions, 0) as impressions,
        coalesce(latest.clicks, 0) as clicks,
        coalesce(latest.ctr_percent, 0) as ctr,
        coalesce(latest.cpm, 0) as cpm,
        coalesce(latest.cpc, 0) as cpc,
        coalesce(latest.conversions, 0) as conversions,
        coalesce(latest.cost_per_conversion, 0) as cost_per_conversion,
        coalesce(latest.conversion_rate_percent, 0) as conversion_rate,
        coalesce(latest.video_play_actions, 0) as video_views,
        coalesce(latest.video_watched_6s, 0) as video_play_actions,
        coalesce(latest.reach, 0) as reach,
        latest._sdc_batched_at
    from latest
    left join campaigns
        on campaigns.data_source_id = latest.data_source_id
        and campaigns.campaign_id = latest.campaign_id
    where latest.version_rank = 1

)

select * from final
