"""The raw layer as target-postgres writes it, for transform tests that run before (or
without) the tap: same schema, table and column names and the same column types."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import psycopg

RAW_SCHEMA = "tiktok_ads"

_SDC_COLUMNS = """
    _sdc_extracted_at TIMESTAMP, _sdc_received_at TIMESTAMP, _sdc_batched_at TIMESTAMP,
    _sdc_deleted_at TIMESTAMP, _sdc_sequence BIGINT, _sdc_table_version BIGINT,
    _sdc_sync_started_at BIGINT"""

RAW_DDL = {
    "advertiser_info": """
        data_source_id BIGINT, advertiser_id TEXT, name TEXT, currency TEXT, timezone TEXT,
        display_timezone TEXT, status TEXT, create_time TIMESTAMP,
        PRIMARY KEY (data_source_id, advertiser_id)""",
    "campaigns": """
        data_source_id BIGINT, advertiser_id TEXT, campaign_id TEXT, campaign_name TEXT,
        objective_type TEXT, operation_status TEXT, secondary_status TEXT, budget NUMERIC,
        budget_mode TEXT, create_time TIMESTAMP, modify_time TIMESTAMP,
        PRIMARY KEY (data_source_id, advertiser_id, campaign_id)""",
    "ad_groups": """
        data_source_id BIGINT, advertiser_id TEXT, adgroup_id TEXT, campaign_id TEXT,
        adgroup_name TEXT, operation_status TEXT, secondary_status TEXT, budget NUMERIC,
        budget_mode TEXT, create_time TIMESTAMP, modify_time TIMESTAMP,
        PRIMARY KEY (data_source_id, advertiser_id, adgroup_id)""",
    "campaign_performance": """
        data_source_id BIGINT, advertiser_id TEXT, campaign_id TEXT, stat_date DATE,
        campaign_name TEXT, objective_type TEXT, spend NUMERIC, impressions BIGINT,
        clicks BIGINT, ctr NUMERIC, cpm NUMERIC, cpc NUMERIC, conversion BIGINT,
        cost_per_conversion NUMERIC, conversion_rate NUMERIC, video_play_actions BIGINT,
        video_watched_2s BIGINT, video_watched_6s BIGINT, reach BIGINT, frequency NUMERIC,
        PRIMARY KEY (data_source_id, advertiser_id, campaign_id, stat_date)""",
    "ad_group_performance": """
        data_source_id BIGINT, advertiser_id TEXT, adgroup_id TEXT, stat_date DATE,
        campaign_id TEXT, adgroup_name TEXT, spend NUMERIC, impressions BIGINT, clicks BIGINT,
        ctr NUMERIC, cpm NUMERIC, cpc NUMERIC, conversion BIGINT, cost_per_conversion NUMERIC,
        conversion_rate NUMERIC, reach BIGINT,
        PRIMARY KEY (data_source_id, advertiser_id, adgroup_id, stat_date)""",
}

_sequence = itertools.count(1)


def create_raw_tables(conn: psycopg.Connection, tables: Iterable[str] = RAW_DDL) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for table in tables:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{table} ({RAW_DDL[table]},{_SDC_COLUMNS})"
        )


def load_rows(
    conn: psycopg.Connection,
    table: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    batched_at: dt.datetime,
    extracted_at: dt.datetime | None = None,
) -> None:
    """Upsert rows the way target-postgres does (on the table's primary key), stamping the
    metadata columns of one load."""
    key = {
        "advertiser_info": ["data_source_id", "advertiser_id"],
        "campaigns": ["data_source_id", "advertiser_id", "campaign_id"],
        "ad_groups": ["data_source_id", "advertiser_id", "adgroup_id"],
        "campaign_performance": ["data_source_id", "advertiser_id", "campaign_id", "stat_date"],
        "ad_group_performance": ["data_source_id", "advertiser_id", "adgroup_id", "stat_date"],
    }[table]
    for row in rows:
        record = dict(row) | {
            "_sdc_extracted_at": extracted_at or batched_at,
            "_sdc_received_at": batched_at,
            "_sdc_batched_at": batched_at,
            "_sdc_sequence": next(_sequence),
        }
        columns = list(record)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        conn.execute(
            f"INSERT INTO {RAW_SCHEMA}.{table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
            list(record.values()),
        )
