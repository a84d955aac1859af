"""The state DB: app state with row-level transactions (SQLite by default, PostgreSQL)."""

# Model modules beyond models.py, imported here so that Base.metadata (migrations,
# the models-match-migrations test) always knows every table.
from tokui.state import api_sources as api_sources
from tokui.state import channels as channels
from tokui.state import messages as messages
from tokui.state import model_runs as model_runs
from tokui.state import saved_analyses as saved_analyses
from tokui.state import scenarios as scenarios
from tokui.state import sign_in as sign_in
from tokui.state import suppressions as suppressions
