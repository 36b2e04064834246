{#- One row per data source and advertiser: the latest loaded version wins. -#}
with source as (

    select * from {{ source('tiktok_ads', 'advertiser_info') }}

),

renamed as (

    select
        cast(data_source_id as integer) as data_source_id,
        cast(advertiser_id as text) as advertiser_id,
        cast(name as text) as advertiser_name,
        cast(currency as text) as currency,
        cast(timezone as text) as timezone,
        cast(status as text) as advertiser_status,
        {{ utc_timestamp(source('tiktok_ads', 'advertiser_info'), '_sdc_extracted_at') }} as synced_at,
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
            partition by data_source_id, advertiser_id
            order by is_deleted_in_source, _sdc_batched_at desc nulls last, _sdc_sequence desc nulls last
        ) as version_rank
    from renamed

)

select
    data_source_id,
    advertiser_id,
    advertiser_name,
    currency,
    timezone,
    advertiser_status,
    synced_at,
    _sdc_batched_at
from ranked
where version_rank = 1
