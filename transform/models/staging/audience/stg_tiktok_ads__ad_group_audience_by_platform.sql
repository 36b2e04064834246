{#- Off unless var tiktok_ads_extra_streams is true (the stream is not in the platform's run). -#}
{{ config(enabled=var('tiktok_ads_extra_streams', false)) }}
{{ tiktok_ads_audience_staging('ad_group_audience_by_platform', 'adgroup_id', ['platform'], ['campaign_id', 'adgroup_name']) }}
