{{ config(
    materialized='stable_view',
    post_hook="{{ create_channel_metrics_function(this) }}",
) }}
{#- The Marketing Hub's TikTok channel row, per data source, day and currency. A view: always
    consistent with campaign_performance (also right after a cascading delete), no build cost.
    Currencies are never added together: a data source whose advertisers bill in different
    currencies gets one row per currency and day, flagged is_mixed_currency. -#}
with performance as (

    select * from {{ ref('campaign_performance') }}

),

campaign_advertisers as (

    select * from {{ ref('int_tiktok_ads__campaign_advertisers') }}

),

advertisers as (

    select * from {{ ref('advertiser_info') }}

),

single_currency_sources as (

    -- For campaigns whose advertiser is unknown: the data source's currency, if it has one.
    select data_source_id, min(currency) as currency
    from advertisers
    group by data_source_id
    having count(distinct currency) = 1

),

attributed as (

    select
        performance.data_source_id,
        performance.stat_date,
        coalesce(advertisers.currency, single_currency_sources.currency) as currency,
        performance.spend,
        performance.impressions,
        performance.clicks,
        performance.conversions
    from performance
    left join campaign_advertisers
        on campaign_advertisers.data_source_id = performance.data_source_id
        and campaign_advertisers.campaign_id = performance.campaign_id
    left join advertisers
        on advertisers.data_source_id = campaign_advertisers.data_source_id
        and advertisers.advertiser_id = campaign_advertisers.advertiser_id
    left join single_currency_sources
        on single_currency_sources.data_source_id = performance.data_source_id

),

daily as (

    select
        data_source_id,
        stat_date,
        currency,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions
    from attributed
    group by data_source_id, stat_date, currency

),

final as (

    select
        data_source_id,
        stat_date,
        currency,
        cast('tiktok_ads' as varchar(50)) as channel_type,
        cast('TikTok Ads' as varchar(100)) as channel_label,
        spend,
        impressions,
        clicks,
        coalesce(clicks / nullif(impressions, 0), 0) as ctr,
        conversions,
        coalesce(spend / nullif(conversions, 0), 0) as cpl,
        cast(0 as numeric) as roas,
        cast(0 as numeric) as pipeline_value,
        count(*) over (partition by data_source_id, stat_date) > 1 as is_mixed_currency
    from daily

)

select * from final
