{{ config(materialized='upsert_into_platform_table', match_key=['data_source_id', 'advertiser_id']) }}
{#- dra_tiktok_ads.advertiser_info: one row per data source and advertiser. synced_at is the
    time of the sync that produced the row (the raw row's _sdc_extracted_at, UTC). -#}
with advertisers as (

    select *
    from {{ ref('stg_tiktok_ads__advertiser_info') }} as advertiser
    where {{ loaded_since_watermark('advertiser') }}

),

final as (

    select
        data_source_id,
        advertiser_id,
        advertiser_name,
        currency,
        timezone,
        coalesce(synced_at, _sdc_batched_at) as synced_at,
        _sdc_batched_at
    from advertisers

)

select * from final
