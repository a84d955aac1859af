"""The state DB: app state with row-level transactions (SQLite by default, PostgreSQL)."""
