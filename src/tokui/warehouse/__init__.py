"""The warehouse: customer data for analytics, behind Ibis (DuckDB by default)."""

from tokui.warehouse.connection import connect
from tokui.warehouse.load import LoadStats, bulk_load, upsert
from tokui.warehouse.schema import TABLES, TableSpec, create_schema

__all__ = ["TABLES", "LoadStats", "TableSpec", "bulk_load", "connect", "create_schema", "upsert"]
