{#- One row per data source and campaign. A campaign deleted in TikTok keeps its row
    (secondary_status CAMPAIGN_STATUS_DELETE); a row soft-deleted by the loader only loses
    to a live version of the same campaign. -#}
with source as (

    select * from {{ source('tiktok_ads', 'campaigns') }}

),

renamed as (

    select
        cast(data_source_id as integer) as data_source_id,
        cast(advertiser_id as text) as advertiser_id,
        cast(campaign_id as text) as campaign_id,
        cast(campaign_name as text) as campaign_name,
        cast(objective_type as text) as objective_type,
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
            partition by data_source_id, campaign_id
            order by is_deleted_in_source, _sdc_batched_at desc nulls last, _sdc_sequence desc nulls last
        ) as version_rank
    from renamed

)

select
    data_source_id,
    advertiser_id,
    campaign_id,
    campaign_name,
    objective_type,
    operation_status,
    secondary_status,
    -- The platform's single status column: TikTok's delivery status, which is the only one
    -- that says "deleted"; operation_status (ENABLE/DISABLE) only when it is missing.
    coalesce(secondary_status, operation_status) as campaign_status,
    _sdc_batched_at
from ranked
where version_rank = 1
