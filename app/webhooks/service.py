"""Webhooks: subscriptions, an outbox of deliveries written with each change, and the worker that sends them."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from app.core.database import unit_of_work
from app.core.errors import Conflict, NotFound, ValidationProblem
from app.core.settings import Settings
from app.matches.schemas import NeedMatches
from app.models import DeliveryStatus, Need, WebhookDelivery, WebhookSubscription, utcnow
from app.webhooks.repository import WebhookRepository
from app.webhooks.schemas import WebhookCreate, WebhookUpdate

logger = logging.getLogger(__name__)

EVENTS: tuple[str, ...] = ("need.matched", "match.approved", "match.rejected")

SIGNATURE_HEADER = "X-Techmatch-Signature"
TIMESTAMP_HEADER = "X-Techmatch-Timestamp"
EVENT_HEADER = "X-Techmatch-Event"
DELIVERY_HEADER = "X-Techmatch-Delivery"
USER_AGENT = "techmatch-webhooks/1"

SECRET_PREFIX = "whsec_"
# A claimed delivery is not due again before this, so a worker that dies mid-send is retried later.
CLAIM_LEASE = timedelta(seconds=60)
# At most this many deliveries per worker pass, so a stop request is seen between passes.
BATCH = 100
_ERROR_CHARS = 500


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of "<timestamp>.<body>" under the subscription's secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


# --- which URLs may be called ---


_HOST_NAME = re.compile(r"^[a-z0-9._-]+$")


def _parse(url: str) -> httpx.URL:
    """The URL as the sender parses it (httpx: the same parser that makes the request), or InvalidURL.

    Python's urlsplit silently drops tabs and line breaks (so "http://exa\tmple.org" reads as
    example.org); httpx refuses them, so a URL is checked in the form it will be sent in.
    """
    return httpx.URL(url)


def _host_port(parsed: httpx.URL) -> tuple[str, int, str]:
    """(host as connected to: IDNA for names, port, "host:port" as the allowlist writes it; IPv6 in brackets)."""
    host = parsed.raw_host.decode("ascii").lower()
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    return host, port, f"{shown}:{port}"


def url_refusal(url: str, allowed: Sequence[str]) -> str | None:
    """Why `url` may not be registered or called (None when it may): syntax, scheme, host, credentials, allowlist."""
    try:
        parsed = _parse(url)
    except httpx.InvalidURL as exc:
        return f"not a valid URL: {exc}"
    if parsed.scheme not in ("http", "https"):
        return "only http and https URLs can receive webhooks"
    if not parsed.raw_host:
        return "the URL has no host"
    host, port, host_port = _host_port(parsed)
    if not (_is_address(host) or _HOST_NAME.match(host)):
        return f"not a valid URL: {parsed.host!r} is not a host name"
    if not 0 < port < 65536:
        return f"not a valid URL: port {port} is out of range"
    if parsed.userinfo:
        return "the URL may not carry credentials; deliveries are authenticated by their signature"
    shown_host = host_port.rsplit(":", 1)[0]
    if shown_host not in allowed and host_port not in allowed:
        return (
            f"{host_port} is not on the webhook allowlist (setting TECHMATCH_WEBHOOK_ALLOWED_HOSTS); "
            "an administrator has to add it"
        )
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def destination_refusal(
    url: str, allowed: Sequence[str], *, resolve: Callable[..., Any] = socket.getaddrinfo
) -> str | None:
    """url_refusal, then where the host resolves to, at send time.

    A host name on the allowlist may only lead to public addresses, so a name that is (or becomes)
    an alias of a loopback, private or link-local address is refused; such an address can still be
    allowlisted as itself (e.g. 127.0.0.1:9000). The connection is made after this check, so a DNS
    answer that changes in between is not caught; redirects are never followed.
    """
    refusal = url_refusal(url, allowed)
    if refusal is not None:
        return refusal
    host, port, _ = _host_port(_parse(url))
    if _is_address(host):
        return None  # the address itself is on the allowlist
    try:
        answers = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return f"cannot resolve {host}: {exc}"
    for answer in answers:
        address = ipaddress.ip_address(answer[4][0])
        if not address.is_global:
            return f"{host} resolves to the non-public address {address}; allowlist that address itself to call it"
    return None


def _check_url(url: str, settings: Settings) -> None:
    refusal = url_refusal(url, settings.webhook_allowed_hosts)
    if refusal is not None:
        raise ValidationProblem.field(("body", "url"), refusal)


# --- subscriptions ---


def create_subscription(
    session: Session, *, tenant: str, data: WebhookCreate, settings: Settings
) -> WebhookSubscription:
    _check_url(data.url, settings)
    subscription = WebhookSubscription(
        tenant=tenant,
        url=data.url,
        events=list(data.events),
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
        active=data.active,
        description=data.description,
    )
    WebhookRepository(session).add(subscription)
    return subscription


def get_subscription(session: Session, *, tenant: str, subscription_id: int) -> WebhookSubscription:
    # Another tenant's subscription is reported as missing, not as forbidden: its existence is not shared.
    subscription = WebhookRepository(session).subscription(tenant=tenant, subscription_id=subscription_id)
    if subscription is None:
        raise NotFound(f"webhook {subscription_id} not found")
    return subscription


def list_subscriptions(
    session: Session, *, tenant: str, limit: int, offset: int
) -> tuple[Sequence[WebhookSubscription], int]:
    return WebhookRepository(session).subscriptions(tenant=tenant, limit=limit, offset=offset)


def update_subscription(
    session: Session, *, tenant: str, subscription_id: int, data: WebhookUpdate, settings: Settings
) -> WebhookSubscription:
    subscription = get_subscription(session, tenant=tenant, subscription_id=subscription_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "url" in changes:
        _check_url(changes["url"], settings)
    for name, value in changes.items():
        setattr(subscription, name, list(value) if name == "events" else value)
    session.flush()
    return subscription


def delete_subscription(session: Session, *, tenant: str, subscription_id: int) -> None:
    repository = WebhookRepository(session)
    repository.delete(get_subscription(session, tenant=tenant, subscription_id=subscription_id))


def list_deliveries(
    session: Session, *, tenant: str, subscription_id: int, limit: int, offset: int
) -> tuple[Sequence[WebhookDelivery], int]:
    subscription = get_subscription(session, tenant=tenant, subscription_id=subscription_id)
    return WebhookRepository(session).deliveries(subscription_id=subscription.id, limit=limit, offset=offset)


def redeliver(session: Session, *, tenant: str, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """A new delivery of the same event and payload, due now; the original stays in the log as it was."""
    subscription = get_subscription(session, tenant=tenant, subscription_id=subscription_id)
    repository = WebhookRepository(session)
    original = repository.delivery(subscription_id=subscription.id, delivery_id=delivery_id)
    if original is None:
        raise NotFound(f"delivery {delivery_id} of webhook {subscription_id} not found")
    if not subscription.active:
        raise Conflict(f"webhook {subscription_id} is inactive; activate it before redelivering")
    copy = WebhookDelivery(
        subscription_id=subscription.id,
        tenant=subscription.tenant,
        event=original.event,
        payload=original.payload,
        status=DeliveryStatus.pending,
        next_attempt_at=utcnow(),
        redelivery_of=original.id,
    )
    repository.add(copy)
    return copy


# --- the outbox ---


def enqueue_event(session: Session, *, tenant: str, event: str, payload: dict[str, Any]) -> None:
    """Records one delivery per active subscription of `tenant` to `event`, in the caller's transaction.

    The change and its notification commit or roll back together; the worker sends after the commit.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}; known: {', '.join(EVENTS)}")
    # Fails here, in the caller, rather than in the worker, on a payload JSON cannot carry.
    json.dumps(payload)
    repository = WebhookRepository(session)
    now = utcnow()
    for subscription in repository.active_subscriptions(tenant=tenant):
        if event in subscription.events:
            session.add(
                WebhookDelivery(
                    subscription_id=subscription.id,
                    tenant=tenant,
                    event=event,
                    payload=payload,
                    status=DeliveryStatus.pending,
                    next_attempt_at=now,
                )
            )
    session.flush()


def need_matched_payload(need: Need, result: NeedMatches) -> dict[str, Any]:
    """What a need.matched event carries: the need and its stored matches, best first."""
    return {
        "need_id": need.id,
        "need_ref": need.ref,
        "company_id": need.company_id,
        "matches": [
            {
                "technology_id": item.technology_id,
                "technology_ref": item.technology_ref,
                "provider_id": item.provider_id,
                "rank": item.rank,
                "score": item.score,
                "status": item.status.value if item.status else None,
            }
            for item in result.items
        ],
    }


# --- sending ---


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery_id: int
    event: str
    url: str | None  # None: nothing to send
    secret: str
    body: bytes
    number: int


@dataclass(frozen=True, slots=True)
class Outcome:
    succeeded: bool
    response_code: int | None = None
    error: str | None = None
    # Refused by the allowlist or address check: retrying cannot help.
    final: bool = False


def delivery_body(delivery: WebhookDelivery) -> bytes:
    document = {
        "id": delivery.id,
        "event": delivery.event,
        "tenant": delivery.tenant,
        "created_at": delivery.created_at.isoformat(),
        "redelivery_of": delivery.redelivery_of,
        "data": delivery.payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def backoff(*, attempts: int, settings: Settings) -> timedelta:
    """The wait after the `attempts`-th failed attempt: doubling from webhook_backoff_seconds, capped."""
    seconds = settings.webhook_backoff_seconds * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, settings.webhook_backoff_max_seconds))


def _claim(factory: sessionmaker[Session], *, now: datetime, settings: Settings) -> Attempt | None:
    with unit_of_work(factory) as session:
        repository = WebhookRepository(session)
        delivery = repository.claim_due(now=now, lease=CLAIM_LEASE)
        if delivery is None:
            return None
        subscription = repository.subscription_by_id(delivery.subscription_id)
        if delivery.attempts >= settings.webhook_max_attempts:
            # Its attempts were claimed but never recorded (the sender died mid-send): it is over.
            delivery.status = DeliveryStatus.failed
            delivery.next_attempt_at = None
            delivery.error = (delivery.error or "no outcome was recorded")[: _ERROR_CHARS - 60] + (
                f"; gave up after {delivery.attempts} attempts"
            )
            return Attempt(delivery.id, delivery.event, url=None, secret="", body=b"", number=delivery.attempts)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        if subscription is None or not subscription.active:
            # Deactivated after the event was recorded: nothing is sent; a redelivery can follow.
            delivery.status = DeliveryStatus.failed
            delivery.next_attempt_at = None
            delivery.error = "the subscription is inactive"
            return Attempt(delivery.id, delivery.event, url=None, secret="", body=b"", number=delivery.attempts)
        delivery.next_attempt_at = now + CLAIM_LEASE
        return Attempt(
            delivery_id=delivery.id,
            event=delivery.event,
            url=subscription.url,
            secret=subscription.secret,
            body=delivery_body(delivery),
            number=delivery.attempts,
        )


def send(attempt: Attempt, *, client: httpx.Client, settings: Settings) -> Outcome:
    """One signed POST; the destination is checked against the allowlist and resolved first."""
    assert attempt.url is not None
    refusal = destination_refusal(attempt.url, settings.webhook_allowed_hosts)
    if refusal is not None:
        return Outcome(succeeded=False, error=f"refused: {refusal}", final=True)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: attempt.event,
        DELIVERY_HEADER: str(attempt.delivery_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret=attempt.secret, timestamp=timestamp, body=attempt.body),
    }
    try:
        response = client.post(attempt.url, content=attempt.body, headers=headers)
    except httpx.HTTPError as exc:
        return Outcome(succeeded=False, error=f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS])
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        # The request cannot even be made (a URL stored before it was checked as it is sent): final.
        return Outcome(succeeded=False, error=f"cannot send: {type(exc).__name__}: {exc}"[:_ERROR_CHARS], final=True)
    if response.is_success:
        return Outcome(succeeded=True, response_code=response.status_code)
    return Outcome(
        succeeded=False,
        response_code=response.status_code,
        error=f"HTTP {response.status_code}: {response.text[:200]}"[:_ERROR_CHARS],
    )


def _record(factory: sessionmaker[Session], attempt: Attempt, outcome: Outcome, *, settings: Settings) -> None:
    now = utcnow()
    with unit_of_work(factory) as session:
        delivery = session.get(WebhookDelivery, attempt.delivery_id)
        if delivery is None:  # its subscription was deleted while sending
            return
        delivery.response_code = outcome.response_code
        delivery.error = outcome.error
        if outcome.succeeded:
            delivery.status = DeliveryStatus.succeeded
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif outcome.final or delivery.attempts >= settings.webhook_max_attempts:
            delivery.status = DeliveryStatus.failed
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + backoff(attempts=delivery.attempts, settings=settings)
        status, retry_at = delivery.status, delivery.next_attempt_at
    log = logger.info if outcome.succeeded else logger.warning
    log(
        "webhook delivery %d (%s) attempt %d to %s: %s%s",
        attempt.delivery_id,
        attempt.event,
        attempt.number,
        attempt.url,
        outcome.response_code or outcome.error,
        f"; retry at {retry_at.isoformat()}" if retry_at else f"; {status.value}",
    )


def deliver_due(
    factory: sessionmaker[Session],
    *,
    settings: Settings,
    client: httpx.Client,
    limit: int = BATCH,
) -> int:
    """Sends the deliveries that are due, one at a time; returns how many attempts were made."""
    made = 0
    while made < limit:
        attempt = _claim(factory, now=utcnow(), settings=settings)
        if attempt is None:
            break
        made += 1
        if attempt.url is None:
            continue
        # No transaction is open while the receiver answers.
        try:
            outcome = send(attempt, client=client, settings=settings)
        except Exception as exc:  # a bug in sending ends this delivery with its reason, not the pass
            logger.exception("webhook delivery %d could not be sent", attempt.delivery_id)
            outcome = Outcome(succeeded=False, error=f"cannot send: {type(exc).__name__}"[:_ERROR_CHARS], final=True)
        _record(factory, attempt, outcome, settings=settings)
    return made


def http_client(settings: Settings) -> httpx.Client:
    # No proxy from the environment (the address check must hold for the real peer), no redirects
    # (a redirect could lead anywhere the allowlist does not).
    return httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False)


class WebhookWorker:
    """A background thread of the API process that sends due deliveries every webhook_poll_seconds."""

    def __init__(self, factory: sessionmaker[Session], *, settings: Settings) -> None:
        self.factory = factory
        self.settings = settings
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="techmatch-webhooks", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Deliver now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.webhook_timeout_seconds + 5)

    def _run(self) -> None:
        with http_client(self.settings) as client:
            while not self._stop.is_set():
                try:
                    deliver_due(self.factory, settings=self.settings, client=client)
                except Exception:  # a database hiccup must not end the worker; the next pass retries
                    logger.exception("webhook delivery pass failed")
                self._wake.wait(self.settings.webhook_poll_seconds)
                self._wake.clear()
