{#-
  THE PLATFORM CONTRACT: every platform object the TikTok integration writes to, in one file.
  The enum dra_data_sources_data_type_enum (gaining 'tiktok_ads'), the registry
  dra_data_sources, schema dra_tiktok_ads and its three tables, column for column as the
  platform specifies them (types, NOT NULL, defaults, UNIQUE, the cascading foreign key).

  Who reads it:
  - dbt, as the macro dra_platform_contract_sql() (transform/dbt_project.yml lists this folder
    under macro-paths), run on-run-start to create whatever is missing. The upsert
    materialization and its type-fit checks then read column names, types, NOT NULL and the
    UNIQUE key from the catalog these statements created: nothing else restates the columns.
  - dra_tiktok_ads.registration.ensure_platform_objects, which runs the text between the
    macro tags (so the body stays plain SQL: no Jinja).
  - The tests, as the platform fixture; tests/transform/test_platform_contract.py pins it to
    the platform's specification.

  Every statement creates only what is absent, so objects the platform made first are left
  as they are, and the whole batch runs under one advisory lock, so concurrent runs (dbt
  builds, registrations) queue instead of racing. ALTER TYPE ... ADD VALUE runs inside the
  batch's transaction, which PostgreSQL >= 12 allows; nothing here uses the new value.
  Constraints stay unnamed, as in the platform's DDL: PostgreSQL names them.
-#}
{% macro dra_platform_contract_sql() %}
SELECT pg_advisory_xact_lock(hashtext('dra_tiktok_ads.platform_contract'));

DO $dra$
BEGIN
  CREATE TYPE dra_data_sources_data_type_enum AS ENUM (
    'postgresql', 'mysql', 'mariadb', 'mongodb', 'csv', 'excel', 'pdf',
    'google_analytics', 'google_ad_manager', 'google_ads', 'meta_ads',
    'linkedin_ads', 'hubspot', 'klaviyo'
  );
EXCEPTION
  WHEN duplicate_object THEN NULL;
END
$dra$;

ALTER TYPE dra_data_sources_data_type_enum ADD VALUE IF NOT EXISTS 'tiktok_ads';

-- Owned by the platform: created here only on a database that does not have it yet.
CREATE TABLE IF NOT EXISTS dra_data_sources (
  id SERIAL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  data_type dra_data_sources_data_type_enum NOT NULL,
  connection_details JSONB NOT NULL,          -- encrypted (dra_tiktok_ads.details)
  created_at TIMESTAMP,
  users_platform_id INT,
  project_id INT,
  organization_id INT,
  workspace_id INT,
  sync_schedule VARCHAR(20) NOT NULL DEFAULT 'manual',
  sync_schedule_time TIME,
  sync_enabled BOOLEAN NOT NULL DEFAULT true,
  next_scheduled_sync TIMESTAMP,
  sync_status VARCHAR(50),
  last_sync_at TIMESTAMP,
  sync_error_message TEXT,
  total_records_synced INT DEFAULT 0,
  sync_config JSONB,
  classification VARCHAR(50)                  -- 'marketing_campaign_data' for TikTok
);

CREATE SCHEMA IF NOT EXISTS dra_tiktok_ads;

CREATE TABLE IF NOT EXISTS dra_tiktok_ads.advertiser_info (
  id SERIAL PRIMARY KEY,
  data_source_id INTEGER NOT NULL REFERENCES dra_data_sources(id) ON DELETE CASCADE,
  advertiser_id VARCHAR(50) NOT NULL,
  advertiser_name VARCHAR(512),
  currency VARCHAR(10),
  timezone VARCHAR(50),
  synced_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS dra_tiktok_ads.campaign_performance (
  id SERIAL PRIMARY KEY,
  data_source_id INTEGER NOT NULL REFERENCES dra_data_sources(id) ON DELETE CASCADE,
  stat_date DATE NOT NULL,
  campaign_id VARCHAR(50) NOT NULL,
  campaign_name VARCHAR(512),
  objective_type VARCHAR(100),        -- 'REACH' | 'VIDEO_VIEWS' | 'CONVERSIONS' | 'APP_INSTALL' etc.
  status VARCHAR(50),
  spend NUMERIC(12,2) DEFAULT 0,
  impressions BIGINT DEFAULT 0,
  clicks INTEGER DEFAULT 0,
  ctr NUMERIC(8,4) DEFAULT 0,         -- click-through rate
  cpm NUMERIC(10,4) DEFAULT 0,        -- cost per mille impressions
  cpc NUMERIC(10,4) DEFAULT 0,        -- cost per click
  conversions INTEGER DEFAULT 0,
  cost_per_conversion NUMERIC(10,2) DEFAULT 0,
  conversion_rate NUMERIC(8,4) DEFAULT 0,
  video_views BIGINT DEFAULT 0,       -- TikTok-specific
  video_play_actions BIGINT DEFAULT 0, -- 6-second views
  reach BIGINT DEFAULT 0,
  UNIQUE(data_source_id, stat_date, campaign_id)
);

CREATE TABLE IF NOT EXISTS dra_tiktok_ads.ad_group_performance (
  id SERIAL PRIMARY KEY,
  data_source_id INTEGER NOT NULL REFERENCES dra_data_sources(id) ON DELETE CASCADE,
  stat_date DATE NOT NULL,
  campaign_id VARCHAR(50) NOT NULL,
  ad_group_id VARCHAR(50) NOT NULL,
  ad_group_name VARCHAR(512),
  spend NUMERIC(12,2) DEFAULT 0,
  impressions BIGINT DEFAULT 0,
  clicks INTEGER DEFAULT 0,
  conversions INTEGER DEFAULT 0,
  cpl NUMERIC(10,2) DEFAULT 0,
  UNIQUE(data_source_id, stat_date, ad_group_id)
);

-- Not in the platform's DDL, added by this integration: the channel row and the Marketing
-- Hub read one data source's date range.
CREATE INDEX IF NOT EXISTS campaign_performance_data_source_id_stat_date_idx
  ON dra_tiktok_ads.campaign_performance (data_source_id, stat_date);
CREATE INDEX IF NOT EXISTS ad_group_performance_data_source_id_stat_date_idx
  ON dra_tiktok_ads.ad_group_performance (data_source_id, stat_date);
{% endmacro %}
