{#- One row per data source and ad group (deleted ad groups included). -#}
with source as (

    select * from {{ source('tiktok_ads', 'ad_groups') }}

),

renamed as (

    select
        cast(data_source_id as integer) as data_source_id,
        cast(advertiser_id as text) as advertiser_id,
        cast(adgroup_id as text) as ad_group_id,
        cast(campaign_id as text) as campaign_id,
        cast(adgroup_name as text) as ad_group_name,
        cast(operation_status as text) as operation_status,
        cast(secondary_status as text) as secondary_status,
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
            partition by data_source_id, ad_group_id
            order by is_deleted_in_source, _sdc_batched_at desc nulls last, _sdc_sequence desc nulls last
        ) as version_rank
    from renamed

)

select
    data_source_id,
    advertiser_id,
    ad_group_id,
    campaign_id,
    ad_group_name,
    operation_status,
    secondary_status,
    _sdc_batched_at
from ranked
where version_rank = 1
