"""The import page: upload, profile, preview, confirm, progress and history."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from tokui.ingest import Profile, ProfileError, builtin_names, list_runs, load_profile
from tokui.ingest.profile import parse_profile, profile_yaml
from tokui.privacy.suppression import load_checker
from tokui.state.db import session_scope
from tokui.state.models import Role, User
from tokui.web.auth import require
from tokui.web.context import web_context
from tokui.web.csrf import UPLOAD_MAX_BYTES, UPLOAD_PATH
from tokui.web.import_jobs import jobs
from tokui.web.import_preview import build_preview
from tokui.web.templating import render
from tokui.web.uploads import (
    SUFFIXES,
    Upload,
    UploadError,
    load_upload,
    save_upload,
    sweep,
    write_meta,
)

router = APIRouter()

Viewer = Annotated[User, require(Role.viewer)]
Marketer = Annotated[User, require(Role.marketer)]

MAX_PROFILE_YAML = 64 * 1024
HISTORY_LIMIT = 50


def _profile_from(name: str, yaml_text: str) -> tuple[Profile | None, str | None, str | None]:
    """(profile, error message, error key) from the form: pasted YAML wins over a name."""
    if yaml_text.strip():
        if len(yaml_text) > MAX_PROFILE_YAML:
            return None, None, "imports.error.yaml_size"
        try:
            return parse_profile(yaml_text, "YAML"), None, None
        except ProfileError as exc:
            return None, str(exc), "imports.error.profile"
    if name not in builtin_names():
        return None, None, "imports.error.choose_profile"
    return load_profile(name), None, None


def _upload_profile(upload: Upload) -> Profile:
    if upload.profile_yaml:
        return parse_profile(upload.profile_yaml, "YAML")
    return load_profile(upload.profile_name or "")


def _history(request: Request) -> list[dict[str, Any]]:
    ctx = web_context(request)
    tz = ZoneInfo(ctx.ws.settings.timezone)
    runs = list_runs(ctx.ws.sessions, HISTORY_LIMIT)
    for run in runs:
        run["started_local"] = run["started_at"].replace(tzinfo=UTC).astimezone(tz)
        totals = {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        for counts in run["counts"].values():
            for key in totals:
                totals[key] += int(counts.get(key, 0))
        run["totals"] = totals
    return runs


def _page(
    request: Request,
    user: User,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    error_detail: str | None = None,
    error_values: dict[str, object] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "imports.html",
        {
            "can_import": user.role_enum.allows(Role.marketer),
            "profiles": builtin_names(),
            "form": form or {"profile": "", "profile_yaml": ""},
            "error": error,
            "error_detail": error_detail,
            "error_values": error_values or {},
            "history": _history(request),
            "suffixes": ", ".join(SUFFIXES),
            "max_mb": UPLOAD_MAX_BYTES // (1024 * 1024),
            "upload_path": UPLOAD_PATH,
        },
        status_code=status_code,
    )


@router.get("/import")
def import_page(request: Request, user: Viewer, edit: str | None = None) -> Response:
    form = {"profile": "", "profile_yaml": ""}
    if edit is not None and user.role_enum.allows(Role.marketer) and edit in builtin_names():
        form = {"profile": edit, "profile_yaml": profile_yaml(edit)}
    return _page(request, user, form=form)


@router.post("/import")
def upload(
    request: Request,
    user: Marketer,
    file: Annotated[UploadFile | None, File()] = None,
    profile: Annotated[str, Form()] = "",
    profile_yaml: Annotated[str, Form()] = "",
) -> Response:
    ctx = web_context(request)
    form = {"profile": profile, "profile_yaml": profile_yaml}
    prof, detail, key = _profile_from(profile, profile_yaml)
    if key is not None:
        return _page(request, user, form=form, error=key, error_detail=detail, status_code=400)
    if file is None or not file.filename:
        return _page(request, user, form=form, error="imports.error.no_file", status_code=400)
    sweep(ctx.ws.home)
    try:
        saved = save_upload(ctx.ws.home, file.file, file.filename, user.id, UPLOAD_MAX_BYTES)
    except UploadError as exc:
        return _page(
            request, user, form=form, error=exc.key, error_values=exc.values, status_code=400
        )
    assert prof is not None
    if profile_yaml.strip():
        saved.profile_yaml = profile_yaml
    else:
        saved.profile_name = profile
    write_meta(ctx.ws.home, saved)
    return RedirectResponse(f"/import/uploads/{saved.token}", status_code=303)


def _own_upload(request: Request, user: User, token: str) -> Upload:
    upload = load_upload(web_context(request).ws.home, token)
    # Someone else's upload is as good as missing, unless you are an admin.
    if upload is None or (upload.uploaded_by != user.id and user.role_enum is not Role.admin):
        raise HTTPException(status_code=404)
    return upload


@router.get("/import/uploads/{token}")
def preview_page(request: Request, user: Marketer, token: str) -> Response:
    job = jobs(request).get(token)
    if job is not None:
        return RedirectResponse(f"/import/jobs/{token}", status_code=303)
    upload = _own_upload(request, user, token)
    return _preview(request, upload)


def _preview(
    request: Request,
    upload: Upload,
    error: str | None = None,
    error_detail: str | None = None,
    status_code: int = 200,
) -> Response:
    ctx = web_context(request)
    prof = _upload_profile(upload)
    with session_scope(ctx.ws.sessions) as db:
        checker = load_checker(db, ctx.ws.settings.secret_key)
    preview = build_preview(upload.path(ctx.ws.home), upload.display_name, prof, checker)
    return render(
        request,
        "import_preview.html",
        {
            "upload": upload,
            "profile": prof,
            "preview": preview,
            "profiles": builtin_names(),
            "error": error,
            "error_detail": error_detail,
            "yaml": upload.profile_yaml or profile_yaml(upload.profile_name or ""),
        },
        status_code=status_code,
    )


@router.post("/import/uploads/{token}/profile")
def change_profile(
    request: Request,
    user: Marketer,
    token: str,
    profile: Annotated[str, Form()] = "",
    profile_yaml: Annotated[str, Form()] = "",
) -> Response:
    upload = _own_upload(request, user, token)
    prof, detail, key = _profile_from(profile, profile_yaml)
    if key is not None:
        return _preview(request, upload, key, detail, status_code=400)
    assert prof is not None
    upload.profile_yaml = profile_yaml if profile_yaml.strip() else None
    upload.profile_name = None if profile_yaml.strip() else profile
    write_meta(web_context(request).ws.home, upload)
    return RedirectResponse(f"/import/uploads/{token}", status_code=303)


@router.post("/import/uploads/{token}/run")
def run_import(request: Request, user: Marketer, token: str) -> Response:
    if jobs(request).get(token) is None:
        upload = _own_upload(request, user, token)
        jobs(request).start(web_context(request), upload, _upload_profile(upload), user.id)
    return RedirectResponse(f"/import/jobs/{token}", status_code=303)


@router.get("/import/jobs/{token}")
def job_page(request: Request, user: Marketer, token: str) -> Response:
    job = jobs(request).get(token)
    if job is None:
        raise HTTPException(status_code=404)
    run = None
    if job.run_id is not None:
        run = next((r for r in _history(request) if r["id"] == job.run_id), None)
    return render(request, "import_job.html", {"job": job, "run": run})


@router.get("/import/jobs/{token}/status")
def job_status(request: Request, user: Marketer, token: str) -> Response:
    job = jobs(request).get(token)
    if job is None:
        return JSONResponse({"state": "unknown"}, status_code=404)
    return JSONResponse(job.as_json())
