{#- The delivery metrics every report stream carries, as the staging models name and type them:
    rates say they are percentages, counts are plural, NULL stays NULL where TikTok sent "-".
    One list, so the campaign, ad group, ad, advertiser and audience models cannot drift. -#}
{% macro tiktok_ads_delivery_metrics() %}
        cast(spend as numeric) as spend,
        cast(impressions as numeric) as impressions,
        cast(clicks as numeric) as clicks,
        cast(ctr as numeric) as ctr_percent,
        cast(cpm as numeric) as cpm,
        cast(cpc as numeric) as cpc,
        cast(conversion as numeric) as conversions,
        cast(cost_per_conversion as numeric) as cost_per_conversion,
        cast(conversion_rate as numeric) as conversion_rate_percent,
{%- endmacro %}
