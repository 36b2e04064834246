"""Run the Meltano pipeline for the platform's TikTok data sources (``tap-tiktok-ads-sync``).

The DRA platform keeps one ``dra_data_sources`` row per connected account with its schedule
and sync health. Its scheduler calls ``tap-tiktok-ads-sync --due`` every minute; the "sync
now" button calls ``tap-tiktok-ads-sync --data-source ID``. One cycle:

1. per data source, up to ``--max-parallel`` at once: a PostgreSQL advisory lock on a
   dedicated connection (a data source already being synced is skipped; the lock dies with
   the process), the row marked ``sync_status = 'running'``, ``connection_details``
   decrypted (``ENCRYPTION_KEY``) into a private token store (mode 0600), and
   ``meltano --log-format=json run --force --state-id-suffix data-source-<id>
   dra-check:data-source tap-tiktok-ads target-postgres`` (the check refuses advertisers
   that are not the data source's) with that source's tokens, advertisers and
   ``data_source_id`` in the subprocess environment (never in argv or logs); rotated tokens
   written back into the encrypted ``connection_details`` as soon as the tap persists them;
2. one ``dbt build`` for every data source that loaded, under one advisory lock;
3. per data source: ``sync_status`` (``completed`` only when loaded and built, else
   ``failed``; ``deleted`` when the row went away during the cycle), ``last_sync_at``,
   ``sync_error_message`` (actionable, secrets removed), ``total_records_synced`` (records
   extracted) and ``next_scheduled_sync`` (see :mod:`dra_tiktok_ads.schedule`); then its
   lock is released.

Outcomes are read as data: Meltano's JSON events and dbt's ``run_results.json``.

One module per concern, each importing only those above it in this list:

- :mod:`.settings`: ``RunnerSettings``, the runner's logger and its configuration error
- :mod:`.meltano_log`: a load's Meltano JSON events (records, errors, failing step)
- :mod:`.dbt_results`: the build's ``run_results.json`` and dbt's JSON error events
- :mod:`.run_output`: text patterns over Meltano's human output (``make demo`` only)
- :mod:`.claim`: selecting data sources, the per-data-source advisory lock, the claim
- :mod:`.ownership`: ``tap-tiktok-ads-check``, the job's first step (the data source exists
  and owns the advertisers; a killed run's plugin config files removed)
- :mod:`.raw_tables`: the raw layer (tables named by the tap, first-load gate, full refresh)
- :mod:`.run_environment`: a run's subprocess environment and the secrets it must hide
- :mod:`.tokens`: the private token store, rotated tokens written back
- :mod:`.meltano_run`: the extract-and-load subprocess (timeout, kill, start-up retries, logs)
- :mod:`.build`: the cycle's dbt build under the build lock
- :mod:`.catalog`: the cycle's tap catalog, discovered once and reused by the later runs
- :mod:`.status`: ``SyncOutcome`` and its write-back to ``dra_data_sources``
- :mod:`.data_source_sync`: one data source's load, and its outcome recorded after the build
- :mod:`.cycle`: loads in parallel, one build, every outcome
- :mod:`.cli`: the ``tap-tiktok-ads-sync`` command line

See docs/sync_runner.md.
"""
