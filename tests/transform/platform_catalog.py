"""The platform registry as dra_tiktok_ads.sql describes it (checked for both the dbt
on-run-start and registration.ensure_platform_objects)."""

PLATFORM_ENUM_VALUES = [
    "postgresql", "mysql", "mariadb", "mongodb", "csv", "excel", "pdf", "google_analytics",
    "google_ad_manager", "google_ads", "meta_ads", "linkedin_ads", "hubspot", "klaviyo",
]  # fmt: skip
DATA_SOURCE_COLUMNS = [
    ("id", "integer", "NO"),
    ("name", "character varying", "NO"),
    ("data_type", "USER-DEFINED", "NO"),
    ("connection_details", "jsonb", "NO"),
    ("created_at", "timestamp without time zone", "YES"),
    ("users_platform_id", "integer", "YES"),
    ("project_id", "integer", "YES"),
    ("organization_id", "integer", "YES"),
    ("workspace_id", "integer", "YES"),
    ("sync_schedule", "character varying", "NO"),
    ("sync_schedule_time", "time without time zone", "YES"),
    ("sync_enabled", "boolean", "NO"),
    ("next_scheduled_sync", "timestamp without time zone", "YES"),
    ("sync_status", "character varying", "YES"),
    ("last_sync_at", "timestamp without time zone", "YES"),
    ("sync_error_message", "text", "YES"),
    ("total_records_synced", "integer", "YES"),
    ("sync_config", "jsonb", "YES"),
    ("classification", "character varying", "YES"),
]
