{#- Off unless var tiktok_ads_extra_streams is true (the stream is not in the platform's run). -#}
{{ config(enabled=var('tiktok_ads_extra_streams', false)) }}
{{ tiktok_ads_audience_staging('campaign_audience_by_platform', 'campaign_id', ['platform'], ['campaign_name']) }}
