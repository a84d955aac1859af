"""A scenario worker for the crash tests: ticks the engine at a fixed instant until no
enrollment is due, then prints how many messages it queued. The test kills it with
SIGKILL at random points and starts it again.

Usage: python -m tests.scenarios.crash_worker HOME ISO_NOW BATCH [START_EPOCH]
(TOKUI_STATE_URL and TOKUI_WAREHOUSE_URL may point it at other stores.)
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from tokui.clock import FixedClock, utc_naive
from tokui.messaging.service import Messaging
from tokui.scenarios.engine import Engine
from tokui.state.db import session_scope
from tokui.state.scenarios import Enrollment
from tokui.workspace import Workspace


def main() -> None:
    home, now, batch = Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), int(sys.argv[3])
    if len(sys.argv) > 4:  # start together with another worker, imports done
        time.sleep(max(0.0, float(sys.argv[4]) - time.time()))
    ws = Workspace.open(home)
    clock = FixedClock(now)
    engine = Engine(Messaging(ws, clock), clock, batch_size=batch)
    queued = 0
    while True:
        stats = engine.tick()
        queued += stats.queued
        if stats.advanced == 0:
            # Rows another worker holds are skipped, not waited for: stop only when
            # nothing due is left at all.
            with session_scope(ws.sessions) as db:
                due = db.scalar(
                    select(func.count())
                    .select_from(Enrollment)
                    .where(Enrollment.status == "active", Enrollment.due_at <= utc_naive(now))
                )
                entered = db.scalar(select(func.count()).select_from(Enrollment))
            # The other worker may still be enrolling: wait for enrollments to exist.
            if entered and not due:
                break
            time.sleep(0.05)
    ws.close()
    print(queued)


if __name__ == "__main__":
    main()
