"""Imports started from the web, run in a background thread each.

The request that starts one returns at once; the status page polls the job. Jobs live in
memory: after a restart a finished import is still in the history (the state DB), and an
unfinished one simply did not happen, since imports are all-or-nothing.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from tokui.ingest import ImportResult, Profile, import_file
from tokui.state.db import session_scope
from tokui.state.models import ImportRun
from tokui.web import audit
from tokui.web.context import WebContext
from tokui.web.uploads import Upload, delete_upload

# Finished jobs kept for their status pages; older ones are in the history anyway.
KEEP_FINISHED = 100


@dataclass
class ImportJob:
    token: str
    file_name: str
    profile: str
    user_id: int
    state: str = "running"  # running, done (see status), crashed
    step: str = "queued"
    status: str | None = None  # the import's own: ok or failed
    run_id: int | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    error_total: int = 0
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "step": self.step,
            "status": self.status,
            "run_id": self.run_id,
            "error_total": self.error_total,
        }


class ImportJobs:
    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> ImportJob | None:
        with self._lock:
            return self._jobs.get(token)

    def start(
        self, ctx: WebContext, upload: Upload, profile: Profile, user_id: int
    ) -> tuple[ImportJob, threading.Thread | None]:
        """The job for this upload, started unless it already was (a double click)."""
        with self._lock:
            existing = self._jobs.get(upload.token)
            if existing is not None:
                return existing, None
            job = ImportJob(upload.token, upload.display_name, profile.name, user_id)
            self._jobs[upload.token] = job
            self._trim()
        thread = threading.Thread(
            target=run_job, args=(ctx, upload, profile, job), name=f"import-{upload.token[:8]}"
        )
        thread.daemon = True
        thread.start()
        return job, thread

    def _trim(self) -> None:
        finished = [t for t, j in self._jobs.items() if j.state != "running"]
        for token in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[token]


_REGISTRY_LOCK = threading.Lock()


def jobs(request: Request) -> ImportJobs:
    state = request.app.state
    with _REGISTRY_LOCK:
        registry = getattr(state, "import_jobs", None)
        if registry is None:
            registry = ImportJobs()
            state.import_jobs = registry
    assert isinstance(registry, ImportJobs)
    return registry


def run_job(ctx: WebContext, upload: Upload, profile: Profile, job: ImportJob) -> None:
    home = ctx.ws.home

    def step(text: str) -> None:
        job.step = text

    try:
        result = import_file(
            ctx.ws.warehouse,
            ctx.ws.sessions,
            upload.path(home),
            profile,
            on_progress=step,
            warehouse_lock=ctx.warehouse_lock,
        )
        _rename_run(ctx, result, upload.display_name)
        audit.record(
            ctx,
            job.user_id,
            "import.run",
            upload.display_name,
            json.dumps(
                {"run_id": result.run_id, "profile": profile.name, "status": result.status},
                ensure_ascii=False,
            ),
        )
        job.status, job.run_id = result.status, result.run_id
        job.counts, job.error_total = result.counts(), result.error_total
        job.step = "finished"
        job.state = "done"
    except Exception as exc:  # the status page must learn of any failure
        job.state, job.step, job.message = "crashed", "crashed", str(exc)[:500]
    finally:
        delete_upload(home, upload.token)


def _rename_run(ctx: WebContext, result: ImportResult, display_name: str) -> None:
    """The history names the file as the user does, not by its stored random name."""
    if result.run_id is None:
        return
    stored = result.file
    with session_scope(ctx.ws.sessions) as db:
        run = db.get(ImportRun, result.run_id)
        if run is None:
            return
        run.file_name = display_name
        errors = json.loads(run.errors)
        for item in errors.get("items", []):
            if item.get("file") == stored:
                item["file"] = display_name
        run.errors = json.dumps(errors, ensure_ascii=False, default=str)
