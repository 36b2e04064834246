{#-
  The platform objects the TikTok tables depend on, in ONE place.

  dbt reads this file as a macro (transform/dbt_project.yml lists this folder under
  macro-paths) and runs it on-run-start; dra_tiktok_ads.registration reads the text
  between the macro tags and runs the same statements. Keep the body plain SQL: no Jinja.

  Every statement is idempotent and safe to run concurrently (advisory lock). ALTER TYPE ...
  ADD VALUE runs inside the implicit transaction of this batch, which PostgreSQL >= 12 allows;
  nothing here uses the new value, so the "unsafe use of new value" rule never applies.
-#}
{% macro dra_platform_objects_sql() %}
SELECT pg_advisory_xact_lock(hashtext('dra_tiktok_ads.platform_objects'));

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

CREATE TABLE IF NOT EXISTS dra_data_sources (
  id SERIAL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  data_type dra_data_sources_data_type_enum NOT NULL,
  connection_details JSONB NOT NULL,
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
  classification VARCHAR(50)
);

CREATE SCHEMA IF NOT EXISTS dra_tiktok_ads;
{% endmacro %}
