"""Local stub servers for the HTTP channels: LINE (checked against LINE's official OpenAPI
specification), FCM (OAuth2 token endpoint + messages:send) and a webhook receiver.

Each runs as a real Starlette app under uvicorn on 127.0.0.1 in a thread, records every
request (headers and raw body) and answers from a queue of injected errors, else with a
spec-shaped success.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SPEC_DIR = Path(__file__).parent / "specs" / "line"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# OpenAPI 3.0 -> JSON Schema: `discriminator` picks the subschema by the property's value.
# jsonschema ignores it, so each base schema with a mapping is rewritten to "the base,
# and if type == v then the mapped schema", and the mapped schemas' allOf point at a copy
# of the base without the discriminator (else base -> mapped -> base would loop).
def _rewrite_discriminators(schemas: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(schemas)
    for name, schema in list(out.items()):
        disc = schema.get("discriminator")
        if not disc or "mapping" not in disc:
            continue
        base = {k: v for k, v in schema.items() if k != "discriminator"}
        base_name = f"{name}__base"
        out[base_name] = base
        prop = disc["propertyName"]
        ref = f"#/components/schemas/{name}"
        branches = []
        for value, target in disc["mapping"].items():
            target_name = target.rsplit("/", 1)[1]
            for part in out[target_name].get("allOf", []):
                if part.get("$ref") == ref:
                    part["$ref"] = f"#/components/schemas/{base_name}"
            branches.append(
                {
                    "if": {"properties": {prop: {"const": value}}, "required": [prop]},
                    "then": {"$ref": target},
                }
            )
        out[name] = {
            "allOf": [
                {"$ref": f"#/components/schemas/{base_name}"},
                {"properties": {prop: {"enum": list(disc["mapping"])}}},
                *branches,
            ]
        }
    return out


@cache
def spec(name: str = "messaging-api.yml") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SPEC_DIR / name).read_text(encoding="utf-8"))
    data["components"]["schemas"] = _rewrite_discriminators(data["components"]["schemas"])
    return data


def validator(schema_name: str, spec_name: str = "messaging-api.yml") -> Draft7Validator:
    document = spec(spec_name)
    resource = Resource.from_contents(document, default_specification=_DRAFT7)
    registry: Registry[Any] = Registry().with_resource("urn:line", resource)
    return Draft7Validator(
        {"$ref": f"urn:line#/components/schemas/{schema_name}"}, registry=registry
    )


def _draft7() -> Any:
    from referencing.jsonschema import DRAFT7

    return DRAFT7


_DRAFT7 = _draft7()


def operation(path: str, spec_name: str = "messaging-api.yml") -> dict[str, Any]:
    op: dict[str, Any] = spec(spec_name)["paths"][path]["post"]
    return op


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StubServer:
    """A Starlette app served by uvicorn on 127.0.0.1 in a background thread."""

    routes: list[Route]
    port: int = field(default_factory=free_port)
    requests: list[Recorded] = field(default_factory=list)
    # Answers to give before the normal one: (status, json body, headers).
    errors: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(
            Starlette(routes=self.routes),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("stub server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def injected(self) -> Response | None:
        if not self.errors:
            return None
        status, body, headers = self.errors.pop(0)
        return JSONResponse(body, status_code=status, headers=headers)


def serve(server: StubServer) -> Iterator[StubServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


# LINE


@dataclass
class LineStub:
    """LINE's push and multicast endpoints; every request is checked against the spec."""

    token: str
    server: StubServer = field(init=False)
    spec_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = StubServer(
            [
                Route(
                    "/v2/bot/message/push", self._handler("/v2/bot/message/push"), methods=["POST"]
                ),
                Route(
                    "/v2/bot/message/multicast",
                    self._handler("/v2/bot/message/multicast"),
                    methods=["POST"],
                ),
            ]
        )

    def _handler(self, path: str) -> Callable[[Request], Any]:
        op = operation(path)
        schema_name = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit(
            "/", 1
        )[1]
        check = validator(schema_name)

        async def handle(request: Request) -> Response:
            raw = await request.body()
            self.server.requests.append(Recorded(path, dict(request.headers), raw))
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return JSONResponse({"message": "Authentication failed"}, status_code=401)
            problems = self.check_request(request.headers, raw, check)
            if problems:
                self.spec_errors.extend(problems)
                return JSONResponse(
                    {"message": "The request body has 1 error(s)", "details": problems},
                    status_code=400,
                )
            injected = self.server.injected()
            if injected is not None:
                return injected
            headers = {"x-line-request-id": f"req-{len(self.server.requests)}"}
            if path.endswith("/push"):
                sent = [{"id": str(100 + i)} for i, _ in enumerate(json.loads(raw)["messages"])]
                return JSONResponse({"sentMessages": sent}, headers=headers)
            return JSONResponse({}, headers=headers)

        return handle

    @staticmethod
    def check_request(headers: Any, raw: bytes, check: Draft7Validator) -> list[str]:
        problems = []
        if not headers.get("content-type", "").startswith("application/json"):
            problems.append("content-type is not application/json")
        key = headers.get("x-line-retry-key")
        if key is not None:
            import uuid

            try:
                uuid.UUID(key)
            except ValueError:
                problems.append(f"X-Line-Retry-Key {key!r} is not a UUID")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return [*problems, f"not JSON: {exc}"]
        problems.extend(
            f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in check.iter_errors(body)
        )
        return problems


# FCM


@dataclass
class FCMStub:
    """Google's OAuth2 token endpoint and FCM's messages:send."""

    project_id: str
    access_token: str = "ya29.stub-access-token"
    server: StubServer = field(init=False)
    assertions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = StubServer(
            [
                Route("/token", self._token, methods=["POST"]),
                Route(
                    f"/v1/projects/{self.project_id}/messages:send", self._send, methods=["POST"]
                ),
            ]
        )

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        self.server.requests.append(
            Recorded("/token", dict(request.headers), json.dumps(dict(form)).encode())
        )
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        self.assertions.append(str(form.get("assertion")))
        return JSONResponse(
            {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"}
        )

    async def _send(self, request: Request) -> Response:
        raw = await request.body()
        self.server.requests.append(Recorded("send", dict(request.headers), raw))
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return JSONResponse(
                {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "bad token"}},
                status_code=401,
            )
        injected = self.server.injected()
        if injected is not None:
            return injected
        n = len(self.server.requests)
        return JSONResponse({"name": f"projects/{self.project_id}/messages/{n}"})


def fcm_error(
    status: int, code: str, error_code: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    return (
        status,
        {
            "error": {
                "code": status,
                "message": error_code,
                "status": code,
                "details": [
                    {
                        "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                        "errorCode": error_code,
                    }
                ],
            }
        },
        {},
    )


# webhook receiver


def receiver() -> StubServer:
    server: StubServer

    async def hook(request: Request) -> Response:
        raw = await request.body()
        server.requests.append(Recorded(request.url.path, dict(request.headers), raw))
        injected = server.injected()
        if injected is not None:
            return injected
        return JSONResponse({"ok": True})

    async def redirect(request: Request) -> Response:
        server.requests.append(Recorded(request.url.path, dict(request.headers), b""))
        return Response(status_code=302, headers={"location": "http://169.254.169.254/latest/"})

    server = StubServer(
        [Route("/hook", hook, methods=["POST"]), Route("/redirect", redirect, methods=["POST"])]
    )
    return server
