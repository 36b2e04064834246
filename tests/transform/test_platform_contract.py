"""The platform contract (bridge/dra_tiktok_ads/sql/platform_contract.sql) is the platform's
specification, and can be run by anyone, any number of times, at the same time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg

from dra_tiktok_ads import registration
from tests.transform import harness
from tests.transform.platform_catalog import read_catalog

# THE SPEC CHECK. The platform's DDL for its TikTok tables (dra_tiktok_ads.sql) and its notes
# on dra_data_sources and the enum, as the catalog shows them ("id serial" is INTEGER NOT NULL
# DEFAULT nextval(...)). Besides platform_contract.sql, this is the only place the platform
# columns are written down: everything else reads them from the catalog.
SPECIFICATION = {
    "enum dra_data_sources_data_type_enum": [
        "postgresql", "mysql", "mariadb", "mongodb", "csv", "excel", "pdf", "google_analytics",
        "google_ad_manager", "google_ads", "meta_ads", "linkedin_ads", "hubspot", "klaviyo",
        "tiktok_ads",
    ],
    "dra_data_sources": [
        "id serial",
        "name varchar(255) NOT NULL",
        "data_type dra_data_sources_data_type_enum NOT NULL",
        "connection_details jsonb NOT NULL",
        "created_at timestamp",
        "users_platform_id integer",
        "project_id integer",
        "organization_id integer",
        "workspace_id integer",
        "sync_schedule varchar(20) NOT NULL DEFAULT 'manual'::varchar",
        "sync_schedule_time time",
        "sync_enabled boolean NOT NULL DEFAULT true",
        "next_scheduled_sync timestamp",
        "sync_status varchar(50)",
        "last_sync_at timestamp",
        "sync_error_message text",
        "total_records_synced integer DEFAULT 0",
        "sync_config jsonb",
        "classification varchar(50)",
        "PRIMARY KEY (id)",
    ],
    "dra_tiktok_ads.advertiser_info": [
        "id serial",
        "data_source_id integer NOT NULL",
        "advertiser_id varchar(50) NOT NULL",
        "advertiser_name varchar(512)",
        "currency varchar(10)",
        "timezone varchar(50)",
        "synced_at timestamp",
        "FOREIGN KEY (data_source_id) REFERENCES dra_data_sources(id) ON DELETE CASCADE",
        "PRIMARY KEY (id)",
    ],
    "dra_tiktok_ads.campaign_performance": [
        "id serial",
        "data_source_id integer NOT NULL",
        "stat_date date NOT NULL",
        "campaign_id varchar(50) NOT NULL",
        "campaign_name varchar(512)",
        "objective_type varchar(100)",
        "status varchar(50)",
        "spend numeric(12,2) DEFAULT 0",
        "impressions bigint DEFAULT 0",
        "clicks integer DEFAULT 0",
        "ctr numeric(8,4) DEFAULT 0",
        "cpm numeric(10,4) DEFAULT 0",
        "cpc numeric(10,4) DEFAULT 0",
        "conversions integer DEFAULT 0",
        "cost_per_conversion numeric(10,2) DEFAULT 0",
        "conversion_rate numeric(8,4) DEFAULT 0",
        "video_views bigint DEFAULT 0",
        "video_play_actions bigint DEFAULT 0",
        "reach bigint DEFAULT 0",
        "FOREIGN KEY (data_source_id) REFERENCES dra_data_sources(id) ON DELETE CASCADE",
        "INDEX btree (data_source_id, stat_date)",  # ours, not the platform's: range reads
        "PRIMARY KEY (id)",
        "UNIQUE (data_source_id, stat_date, campaign_id)",
    ],
    "dra_tiktok_ads.ad_group_performance": [
        "id serial",
        "data_source_id integer NOT NULL",
        "stat_date date NOT NULL",
        "campaign_id varchar(50) NOT NULL",
        "ad_group_id varchar(50) NOT NULL",
        "ad_group_name varchar(512)",
        "spend numeric(12,2) DEFAULT 0",
        "impressions bigint DEFAULT 0",
        "clicks integer DEFAULT 0",
        "conversions integer DEFAULT 0",
        "cpl numeric(10,2) DEFAULT 0",
        "FOREIGN KEY (data_source_id) REFERENCES dra_data_sources(id) ON DELETE CASCADE",
        "INDEX btree (data_source_id, stat_date)",  # ours, not the platform's: range reads
        "PRIMARY KEY (id)",
        "UNIQUE (data_source_id, stat_date, ad_group_id)",
    ],
}  # fmt: skip


def test_the_contract_is_the_platform_specification(contract_catalog):
    assert contract_catalog == SPECIFICATION


def test_concurrent_and_repeated_runs_create_each_object_once(fresh_database, contract_catalog):
    # Registrations and dbt builds of several data sources start at the same moment on a new
    # database; without the contract's advisory lock two CREATEs of one object collide.
    runs = 4
    start = threading.Barrier(runs)

    def run_contract() -> None:
        with psycopg.connect(harness.conninfo(fresh_database), autocommit=True) as conn:
            start.wait()
            registration.ensure_platform_objects(conn)

    with ThreadPoolExecutor(runs) as pool:
        for run in [pool.submit(run_contract) for _ in range(runs)]:
            run.result()
    with psycopg.connect(harness.conninfo(fresh_database), autocommit=True) as conn:
        registration.ensure_platform_objects(conn)
        assert read_catalog(conn) == contract_catalog
