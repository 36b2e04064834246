"""The platform's sync on Dagster: a code location for more than one machine.

Install with the ``dagster`` extra (``pip install 'dra-tiktok-ads-bridge[dagster]'``) and
point a workspace at ``dra_tiktok_ads.dagster_location.definitions`` (docs/sync_runner.md).
The same cycle code as ``tap-tiktok-ads-sync`` runs inside:

- ``tiktok_ads/raw``: one dynamic partition per TikTok data source (``tiktok_data_sources``,
  kept in step with ``dra_data_sources`` by the sensor); materializing a partition is that
  data source's extract-and-load (:func:`dra_tiktok_ads.sync.data_source_sync.extract_and_load`),
  in Dagster pool ``tiktok_ads_app`` so the instance caps the loads running at once;
- the dbt models as assets downstream (dagster-dbt), built once for every partition loaded,
  under the runner's build lock (:mod:`dra_tiktok_ads.sync.build`);
- ``tiktok_ads/sync_status``: writes ``completed`` back to ``dra_data_sources`` for the data
  sources whose rows that build upserted (a failed load or build is written as ``failed``
  where it happens);
- sensors: ``tiktok_ads_due_data_sources`` (partitions from ``dra_data_sources``, a run per
  due data source) and ``tiktok_ads_build_after_loads`` (the build once no load is left);
  schedule ``tiktok_ads_daily_build`` (a backstop build).
"""
