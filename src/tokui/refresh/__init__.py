"""The refresh pipeline: recomputes everything derived from the shop data.

Each later feature plugs its step in with `@refresh_step`; steps run in registration
order, each recorded in the state DB, and one failure stops the run with the step named.
"""

from tokui.refresh.pipeline import RefreshResult, StepResult, refresh_step, run_refresh, steps

__all__ = ["RefreshResult", "StepResult", "refresh_step", "run_refresh", "steps"]
