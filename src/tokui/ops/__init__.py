"""Running Tokui in production: workers, metrics, health, logs, backups."""
