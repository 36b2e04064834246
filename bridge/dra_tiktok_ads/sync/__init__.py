"""Run the Meltano pipeline for the platform's TikTok data sources (``tap-tiktok-ads-sync``).

The DRA platform keeps one ``dra_data_sources`` row per connected account with its schedule
and sync health. Its scheduler calls ``tap-tiktok-ads-sync --due`` every minute; the "sync
now" button calls ``tap-tiktok-ads-sync --data-source ID``. For each data source this:

1. takes a PostgreSQL advisory lock on a dedicated connection (a data source already being
   synced is skipped; the lock dies with the process, so a crash never leaves it stuck),
2. marks the row ``sync_status = 'running'``,
3. decrypts ``connection_details`` (``ENCRYPTION_KEY``, the platform's AES-256-GCM format),
   seeds a private token store (mode 0600) from them and runs
   ``meltano run --force --state-id-suffix data-source-<id> tiktok-ads`` with that source's tokens,
   advertisers and ``data_source_id`` in the subprocess environment (never in argv or logs),
4. writes rotated tokens back into the encrypted ``connection_details`` as soon as the tap
   persists them, and again when the run ends, whatever its outcome,
5. records ``sync_status`` (``completed`` / ``failed``; ``deleted`` when the row went away),
   ``last_sync_at``, ``sync_error_message`` (actionable, secrets removed),
   ``total_records_synced`` (records extracted by this run) and ``next_scheduled_sync``
   (see :mod:`dra_tiktok_ads.schedule`).

One module per concern, each importing only those above it in this list:

- :mod:`.settings`: ``RunnerSettings``, the runner's logger and its configuration error
- :mod:`.run_output`: reading a run's output (record counts, error lines, final message)
- :mod:`.claim`: selecting data sources, the per-data-source advisory lock, the claim
- :mod:`.ownership`: ``tap-tiktok-ads-check``, the job's first step (the data source exists
  and owns the advertisers; a killed run's plugin config files removed)
- :mod:`.raw_tables`: the raw layer (tables named by the tap, first-load gate, full refresh)
- :mod:`.run_environment`: a run's subprocess environment and the secrets it must hide
- :mod:`.tokens`: the private token store, rotated tokens written back
- :mod:`.meltano_run`: the ``meltano run`` subprocess (timeout, kill, start-up retries, logs)
- :mod:`.status`: ``SyncOutcome`` and its write-back to ``dra_data_sources``
- :mod:`.data_source_sync`: one data source, locked, claimed, run and recorded
- :mod:`.cycle`: many data sources, up to ``--max-parallel`` at once
- :mod:`.cli`: the ``tap-tiktok-ads-sync`` command line

See docs/sync_runner.md.
"""
