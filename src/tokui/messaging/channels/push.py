"""App push through Firebase Cloud Messaging, HTTP v1 API.

Authentication is OAuth2 with a service account: we sign a JWT (RS256) with the account's
private key, trade it at the account's token_uri for an access token, and keep that token
until a minute before it expires (one exchange per hour, not per message). The private
key comes from TOKUI_FCM_SERVICE_ACCOUNT or a file the operator protects; it and the
access token never appear in errors, logs or the outbox.

One outbox row is one device (the recipient is the registration token; a customer with
two phones gets two rows). FCM has no idempotency key, so a worker that dies mid-send
leaves the row held for review, as for SMTP (at most once).

Errors (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode):
UNREGISTERED (the app was uninstalled) and SENDER_ID_MISMATCH: permanent, and the token
is switched off in push_devices so nothing is sent to it again; INVALID_ARGUMENT:
permanent; QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, 429 and 5xx: temporary, with backoff;
401 / THIRD_PARTY_AUTH_ERROR: a configuration problem, retried once it is fixed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tokui.clock import Clock, utc_naive
from tokui.messaging.channel import (
    Capabilities,
    DeliveryError,
    OutgoingMessage,
    PermanentDeliveryError,
    RenderRequest,
    SendResult,
    TemporaryDeliveryError,
)
from tokui.messaging.channel_settings import PushSettings
from tokui.messaging.devices import token_hash
from tokui.messaging.http_client import LoopClient
from tokui.messaging.templates import TemplateRenderError, render_part
from tokui.state.channels import PushDevice
from tokui.state.db import session_scope

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
DEAD_TOKEN = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
TEMPORARY = frozenset({"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"})
TITLE_MAX = 200
BODY_MAX = 2000


class ServiceAccountError(ValueError):
    """The service account JSON lacks what the token exchange needs."""


class AccessTokens:
    """OAuth2 access tokens for a service account, cached until shortly before expiry."""

    def __init__(
        self,
        account: dict[str, Any],
        client: Callable[[], httpx.AsyncClient],
        now: Callable[[], float] = time.time,
    ) -> None:
        for name in ("client_email", "private_key", "token_uri"):
            if not account.get(name):
                raise ServiceAccountError(f"service account JSON: {name} is missing")
        self.account = account
        self.client = client
        self.now = now
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.exchanges = 0

    def assertion(self) -> str:
        issued = int(self.now())
        claims = {
            "iss": self.account["client_email"],
            "scope": SCOPE,
            "aud": self.account["token_uri"],
            "iat": issued,
            "exp": issued + 3600,
        }
        headers = (
            {"kid": self.account["private_key_id"]} if "private_key_id" in self.account else None
        )
        return jwt.encode(claims, self.account["private_key"], algorithm="RS256", headers=headers)

    async def get(self) -> str:
        async with self._lock:
            if self._token is not None and self.now() < self._expires - 60:
                return self._token
            response = await self.client().post(
                self.account["token_uri"],
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    "assertion": self.assertion(),
                },
            )
            if response.status_code != 200:
                raise TemporaryDeliveryError(
                    f"FCM token exchange failed: {response.status_code}; check the service account",
                    code="config-oauth",
                )
            data = response.json()
            self._token = str(data["access_token"])
            self._expires = self.now() + float(data.get("expires_in", 3600))
            self.exchanges += 1
            return self._token

    def forget(self) -> None:
        self._token = None


class PushChannel:
    name = "push"
    capabilities = Capabilities(
        idempotent_send=False, address_kind="device", default_rate_per_second=200.0
    )

    def __init__(
        self,
        settings: PushSettings,
        sessions: sessionmaker[Session],
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self._transport = transport
        self._client = LoopClient(self._new_client)
        self._tokens: AccessTokens | None = None

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.settings.timeout_seconds,
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,
        )

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client.get()

    @property
    def tokens(self) -> AccessTokens:
        if self._tokens is None:
            try:
                account = json.loads(self.settings.service_account_json or "{}")
            except json.JSONDecodeError:
                account = {}
            self._tokens = AccessTokens(
                account, lambda: self.client, lambda: self.clock.now().timestamp()
            )
        return self._tokens

    def validate_config(self) -> list[str]:
        problems = []
        if not self.settings.project_id:
            problems.append("[push] project_id is empty")
        if not self.settings.service_account_json:
            problems.append(
                "no service account: set [push] service_account_file or TOKUI_FCM_SERVICE_ACCOUNT"
            )
        else:
            try:
                _ = self.tokens
            except ServiceAccountError as exc:
                problems.append(str(exc))
        return problems

    def render(self, request: RenderRequest) -> dict[str, Any]:
        source = request.source
        title = render_part(source, "subject", request.context).strip()
        body = render_part(source, "text", request.context).strip() if source.text else ""
        if not title or len(title) > TITLE_MAX:
            raise TemplateRenderError(
                source.label, "subject", None, f"a push title needs 1 to {TITLE_MAX} characters"
            )
        if len(body) > BODY_MAX:
            raise TemplateRenderError(source.label, "text", None, f"over {BODY_MAX} characters")
        return {
            "notification": {"title": title, "body": body},
            "data": {"outbox_id": str(request.outbox_id), "template": source.key},
        }

    def provider_message_id(self, outbox_id: int, idempotency_key: str) -> str | None:
        return None

    def request_body(self, message: OutgoingMessage) -> dict[str, Any]:
        payload = message.payload
        return {
            "message": {
                "token": message.recipient,
                "notification": dict(payload.get("notification") or {}),
                "data": {k: str(v) for k, v in (payload.get("data") or {}).items()},
            }
        }

    async def send(self, message: OutgoingMessage) -> SendResult:
        url = (
            f"{self.settings.api_base_url.rstrip('/')}/v1/projects/"
            f"{self.settings.project_id}/messages:send"
        )
        try:
            token = await self.tokens.get()
            response = await self.client.post(
                url,
                json=self.request_body(message),
                headers={"Authorization": f"Bearer {token}"},
            )
        except Exception as exc:
            raise self.classify(exc) from None
        if response.status_code == 200:
            name = str(response.json().get("name", ""))
            return SendResult(name or None, detail="200")
        error = self._error(response)
        if error.code in DEAD_TOKEN:
            self._deactivate(message.recipient, error.code)
        raise error

    def _error(self, response: httpx.Response) -> DeliveryError:
        status = response.status_code
        try:
            err = response.json().get("error", {})
        except ValueError:
            err = {}
        code = str(err.get("status", ""))
        for detail in err.get("details") or []:
            if isinstance(detail, dict) and detail.get("errorCode"):
                code = str(detail["errorCode"])
        text = f"FCM {status} {code}: {str(err.get('message', ''))[:200]}"
        if code in DEAD_TOKEN:
            return PermanentDeliveryError(text, code=code)
        if status == 401 or code == "THIRD_PARTY_AUTH_ERROR":
            self.tokens.forget()
            return TemporaryDeliveryError(text, code="config-" + (code or "401"))
        if code in TEMPORARY or status == 429 or status >= 500:
            return TemporaryDeliveryError(text, code=code or str(status))
        return PermanentDeliveryError(text, code=code or str(status))

    def _deactivate(self, device_token: str, reason: str) -> None:
        with session_scope(self.sessions) as db:
            db.execute(
                update(PushDevice)
                .where(PushDevice.token_hash == token_hash(device_token))
                .values(
                    active=False,
                    deactivated_reason=reason,
                    updated_at=utc_naive(self.clock.now()),
                )
            )

    def classify(self, exc: BaseException) -> DeliveryError:
        if isinstance(exc, DeliveryError):
            return exc
        if isinstance(exc, ServiceAccountError):
            return TemporaryDeliveryError(str(exc), code="config")
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            return TemporaryDeliveryError(f"FCM timeout: {type(exc).__name__}", code="timeout")
        if isinstance(exc, httpx.TransportError | OSError):
            return TemporaryDeliveryError(f"FCM unreachable: {type(exc).__name__}", code="network")
        return TemporaryDeliveryError(f"{type(exc).__name__}", code="unexpected")

    async def aclose(self) -> None:
        await self._client.aclose()
