{{ config(materialized='upsert_into_platform_table') }}
{#- dra_tiktok_ads.ad_group_performance: one row per data source, day and ad group. -#}
with batch as (

    select *
    from {{ ref('stg_tiktok_ads__ad_group_performance') }} as report
    where {{ loaded_since_watermark('report') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by data_source_id, stat_date, ad_group_id
            order by is_deleted_in_source, _sdc_batched_at desc nulls last, _sdc_sequence desc nulls last
        ) as version_rank
    from batch

),

ad_groups as (

    select * from {{ ref('stg_tiktok_ads__ad_groups') }}

),

final as (

    select
        latest.data_source_id,
        latest.stat_date,
        coalesce(latest.campaign_id, ad_groups.campaign_id) as campaign_id,
        latest.ad_group_id,
        coalesce(latest.ad_group_name, ad_groups.ad_group_name) as ad_group_name,
        coalesce(latest.spend, 0) as spend,
        coalesce(latest.impressions, 0) as impressions,
        coalesce(latest.clicks, 0) as clicks,
        coalesce(latest.conversions, 0) as conversions,
        -- cost per lead: spend / conversions, 0 when there are none (platform convention)
        coalesce(round(latest.spend / nullif(latest.conversions, 0), 2), 0) as cpl,
        latest._sdc_batched_at
    from latest
    left join ad_groups
        on ad_groups.data_source_id = latest.data_source_id
        and ad_groups.ad_group_id = latest.ad_group_id
    where latest.version_rank = 1

)

select * from final
