{#- dra_tiktok_ads.channel_metrics(p_data_source_id, p_start_date, p_end_date): the Marketing
    Hub's TikTok row for an inclusive date range, always exactly one row (zeros when there is
    no data). Created after marketing_channel_daily (post-hook), so the singular test that
    checks it runs against the fresh function.

    Currency: if the range holds more than one currency (or a known and an unknown one),
    mixed_currency is true, currency is NULL and spend/cpl are NULL - never a silent sum of
    different currencies. Counts, ctr and conversions stay valid. -#}
{% macro create_channel_metrics_function(daily_relation) %}
create or replace function {{ daily_relation.schema }}.channel_metrics(
    p_data_source_id integer,
    p_start_date date,
    p_end_date date
)
returns table (
    channel_type varchar,
    channel_label varchar,
    spend numeric,
    impressions bigint,
    clicks bigint,
    ctr numeric,
    conversions bigint,
    cpl numeric,
    roas numeric,
    pipeline_value numeric,
    data_source_id integer,
    currency varchar,
    mixed_currency boolean
)
language sql
stable
as $function$
    with in_range as (
        select *
        from {{ daily_relation }} as daily
        where daily.data_source_id = p_data_source_id
          and daily.stat_date between p_start_date and p_end_date
    ),
    totals as (
        select
            coalesce(sum(in_range.spend), 0) as spend,
            coalesce(sum(in_range.impressions), 0)::bigint as impressions,
            coalesce(sum(in_range.clicks), 0)::bigint as clicks,
            coalesce(sum(in_range.conversions), 0)::bigint as conversions,
            count(distinct coalesce(in_range.currency, '')) > 1 as mixed_currency,
            min(in_range.currency) as currency
        from in_range
    )
    select
        'tiktok_ads'::varchar,
        'TikTok Ads'::varchar,
        case when totals.mixed_currency then null else totals.spend end,
        totals.impressions,
        totals.clicks,
        coalesce(totals.clicks::numeric / nullif(totals.impressions, 0), 0),
        totals.conversions,
        case when totals.mixed_currency then null
             else coalesce(totals.spend / nullif(totals.conversions, 0), 0) end,
        0::numeric,
        0::numeric,
        p_data_source_id,
        case when totals.mixed_currency then null else totals.currency end::varchar,
        totals.mixed_currency
    from totals
$function$;
comment on function {{ daily_relation.schema }}.channel_metrics(integer, date, date) is
    'TikTok Ads channel row for the Marketing Hub: one row for a data source and an inclusive '
    'date range. ctr is a fraction; cpl = spend/conversions (0 when none); spend and cpl are '
    'NULL and mixed_currency true when the range mixes currencies.';
{% endmacro %}
