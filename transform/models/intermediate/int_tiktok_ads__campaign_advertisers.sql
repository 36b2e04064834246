{{ config(
    materialized='keyed_table',
    unique_key=['data_source_id', 'campaign_id'],
) }}
{#- Which advertiser (hence which currency) each campaign belongs to. The platform's
    campaign_performance has no advertiser_id, so the channel row needs this map to keep
    currencies apart. Built from both the entity and the report (the report alone covers
    campaigns the entity stream no longer returns). keyed_table: a table that is never
    dropped keeps the channel view that depends on it alive. -#}
with candidates as (

    select data_source_id, campaign_id, advertiser_id, _sdc_batched_at, 1 as preference
    from {{ ref('stg_tiktok_ads__campaigns') }}

    union all

    select data_source_id, campaign_id, advertiser_id, _sdc_batched_at, 2 as preference
    from {{ ref('stg_tiktok_ads__campaign_performance') }}
    where {{ loaded_since_table_watermark('_sdc_batched_at') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by data_source_id, campaign_id
            order by preference, _sdc_batched_at desc nulls last
        ) as candidate_rank
    from candidates
    where advertiser_id is not null

)

select
    data_source_id,
    campaign_id,
    advertiser_id,
    _sdc_batched_at as loaded_at
from ranked
where candidate_rank = 1
