"""Singer tap for the TikTok Marketing API v1.3, built on the Meltano Singer SDK."""
