"""File import: CSV, TSV and Excel exports of carts into the canonical warehouse."""

from tokui.ingest.profile import Profile, ProfileError, builtin_names, load_profile
from tokui.ingest.read import ReadError, read_table
from tokui.ingest.run import ImportResult, TableCounts, import_file, list_runs
from tokui.ingest.validate import RowError

__all__ = [
    "ImportResult",
    "Profile",
    "ProfileError",
    "ReadError",
    "RowError",
    "TableCounts",
    "builtin_names",
    "import_file",
    "list_runs",
    "load_profile",
    "read_table",
]
