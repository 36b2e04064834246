{#- One row per data source and ad (deleted ads included), with the creative fields. Off unless
    the dbt var tiktok_ads_extra_streams is true: the platform does not select the ads stream. -#}
{{ config(enabled=var('tiktok_ads_extra_streams', false)) }}

with source as (

    select * from {{ source('tiktok_ads', 'ads') }}

),

renamed as (

    select
        cast(data_source_id as integer) as data_source_id,
        cast(advertiser_id as text) as advertiser_id,
        cast(ad_id as text) as ad_id,
        cast(adgroup_id as text) as ad_group_id,
        cast(campaign_id as text) as campaign_id,
        cast(ad_name as text) as ad_name,
        cast(ad_text as text) as ad_text,
        cast(call_to_action as text) as call_to_action,
        cast(video_id as text) as video_id,
        to_jsonb(image_ids) as image_ids,
        cast(landing_page_url as text) as landing_page_url,
        cast(display_name as text) as display_name,
        cast(identity_id as text) as identity_id,
        cast(identity_type as text) as identity_type,
        cast(ad_format as text) as ad_format,
        cast(operation_status as text) as operation_status,
        cast(secondary_status as text) as secondary_status,
        cast(create_time as timestamp) as created_at,
        cast(modify_time as timestamp) as modified_at,
        cast(_sdc_batched_at as timestamp) as _sdc_batched_at,
        _sdc_sequence,
        _sdc_deleted_at is not null as is_deleted_in_source
    from source
    where data_source_id is not null

),

ranked as (

    select
        *,
        row_number() over (
            partition by data_source_id, ad_id
            order by is_deleted_in_source, _sdc_batched_at desc nulls last, _sdc_sequence desc nulls last
        ) as version_rank
    from renamed

)

select
    data_source_id,
    advertiser_id,
    ad_id,
    ad_group_id,
    campaign_id,
    ad_name,
    ad_text,
    call_to_action,
    video_id,
    image_ids,
    landing_page_url,
    display_name,
    identity_id,
    identity_type,
    ad_format,
    operation_status,
    secondary_status,
    secondary_status = 'AD_STATUS_DELETE' as is_deleted,
    created_at,
    modified_at,
    _sdc_batched_at
from ranked
where version_rank = 1
