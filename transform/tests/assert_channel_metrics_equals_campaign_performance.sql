{#- The channel row equals the sums of campaign_performance, per data source over its whole
    date range and over its first 10 days. Currency-independent totals always; spend and cpl
    where the range has a single currency (mixed ranges must return NULL spend instead). -#}
{{ config(severity='error') }}

with ranges as (

    select data_source_id, min(stat_date) as start_date, max(stat_date) as end_date
    from {{ ref('campaign_performance') }}
    group by data_source_id

    -- union, not union all: with exactly 10 days of data both ranges are the same row
    union

    select data_source_id, min(stat_date), min(stat_date) + 9
    from {{ ref('campaign_performance') }}
    group by data_source_id

),

expected as (

    select
        ranges.data_source_id,
        ranges.start_date,
        ranges.end_date,
        sum(performance.spend) as spend,
        sum(performance.impressions) as impressions,
        sum(performance.clicks) as clicks,
        sum(performance.conversions) as conversions
    from ranges
    join {{ ref('campaign_performance') }} as performance
        on performance.data_source_id = ranges.data_source_id
        and performance.stat_date between ranges.start_date and ranges.end_date
    group by ranges.data_source_id, ranges.start_date, ranges.end_date

),

actual as (

    select expected.*, channel.*
    from expected
    cross join lateral {{ ref('marketing_channel_daily').schema }}.channel_metrics(
        expected.data_source_id, expected.start_date, expected.end_date
    ) as channel (
        channel_type, channel_label, channel_spend, channel_impressions, channel_clicks,
        channel_ctr, channel_conversions, channel_cpl, roas, pipeline_value,
        channel_data_source_id, currency, mixed_currency
    )

)

select *
from actual
where channel_type <> 'tiktok_ads'
   or channel_data_source_id <> data_source_id
   or channel_impressions <> impressions
   or channel_clicks <> clicks
   or channel_conversions <> conversions
   or channel_ctr <> coalesce(clicks::numeric / nullif(impressions, 0), 0)
   or roas <> 0
   or pipeline_value <> 0
   or (mixed_currency and (channel_spend is not null or channel_cpl is not null))
   or (not mixed_currency and (
        channel_spend <> spend
        or channel_cpl <> coalesce(spend / nullif(conversions, 0), 0)
   ))
