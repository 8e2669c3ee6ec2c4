"""Webhooks against a real HTTP receiver on 127.0.0.1: signatures, retries, redelivery, the allowlist."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.settings import Settings
from app.main import create_app
from app.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from app.webhooks.service import backoff, deliver_due, destination_refusal, enqueue_event, http_client
from tests.app.support import authorize


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers with the next queued status."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def host_port(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host_port}/hooks/techmatch"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(Received(dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    yield running
    running.stop()


def _with(settings: Settings, **changes: Any) -> Settings:
    return Settings(**{**settings.model_dump(), **changes, "_env_file": None})


@pytest.fixture
def hook_settings(loaded_settings: Settings, receiver: Receiver) -> Settings:
    """The mini data set, the receiver on the allowlist, fast retries, and no background worker."""
    return _with(
        loaded_settings,
        webhook_allowed_hosts=[receiver.host_port],
        webhook_backoff_seconds=0.01,
        webhook_max_attempts=3,
        webhook_worker=False,
    )


@pytest.fixture
def hook_client(hook_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(hook_settings)) as client:
        authorize(client)
        yield client


def _deliver(client: TestClient, *, until: Callable[[], bool] | None = None) -> None:
    """Runs the delivery worker's passes in the test's thread until nothing is due (or `until` holds)."""
    app = client.app
    assert isinstance(app, FastAPI)
    settings: Settings = app.state.settings
    deadline = time.monotonic() + 10
    with http_client(settings) as http:
        while time.monotonic() < deadline:
            made = deliver_due(app.state.session_factory, settings=settings, client=http)
            if (until is not None and until()) or (until is None and made == 0 and not _pending(app)):
                return
            time.sleep(0.02)
    raise AssertionError("deliveries still pending after 10 s")


def _pending(app: FastAPI) -> bool:
    with unit_of_work(app.state.session_factory) as session:
        return (
            session.scalars(select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.pending)).first()
            is not None
        )


def _register(client: TestClient, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/webhooks", json={"url": url, "events": events or ["need.matched"]})
    assert response.status_code == 201, response.text
    return response.json()


def _first_need_id(client: TestClient) -> int:
    return client.get("/api/v1/needs").json()["items"][0]["id"]


def _verify(secret: str, received: Received) -> dict[str, Any]:
    """What a receiver does: recompute the signature over "<timestamp>.<body>" and compare."""
    timestamp = received.headers["X-Techmatch-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, received.headers["X-Techmatch-Signature"])
    assert abs(int(timestamp) - time.time()) < 60
    return json.loads(received.body)


def test_need_matched_is_delivered_signed(hook_client: TestClient, receiver: Receiver) -> None:
    hook = _register(hook_client, receiver.url)
    assert hook["secret"].startswith("whsec_")
    need_id = _first_need_id(hook_client)
    matches = hook_client.post(f"/api/v1/needs/{need_id}/matches").json()

    _deliver(hook_client)

    assert len(receiver.received) == 1
    received = receiver.received[0]
    document = _verify(hook["secret"], received)
    assert received.headers["X-Techmatch-Event"] == "need.matched"
    assert document["event"] == "need.matched"
    assert document["tenant"] == "default"
    assert document["data"]["need_id"] == need_id
    assert [m["technology_id"] for m in document["data"]["matches"]] == [m["technology_id"] for m in matches["items"]]
    log = hook_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()
    assert log["total"] == 1
    entry = log["items"][0]
    assert received.headers["X-Techmatch-Delivery"] == str(entry["id"]) == str(document["id"])
    assert (entry["status"], entry["attempts"], entry["response_code"]) == ("succeeded", 1, 200)
    # The secret is shown once, at creation.
    assert "secret" not in hook_client.get(f"/api/v1/webhooks/{hook['id']}").json()


def test_a_tampered_body_fails_verification(hook_client: TestClient, receiver: Receiver) -> None:
    hook = _register(hook_client, receiver.url)
    hook_client.post(f"/api/v1/needs/{_first_need_id(hook_client)}/matches")
    _deliver(hook_client)
    received = receiver.received[0]
    tampered = Received(received.headers, received.body.replace(b'"default"', b'"evil"'))
    with pytest.raises(AssertionError):
        _verify(hook["secret"], tampered)


def test_a_500_is_retried_with_the_same_delivery(hook_client: TestClient, receiver: Receiver) -> None:
    hook = _register(hook_client, receiver.url)
    receiver.statuses = [500]
    hook_client.post(f"/api/v1/needs/{_first_need_id(hook_client)}/matches")

    _deliver(hook_client)

    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["X-Techmatch-Delivery"] == second.headers["X-Techmatch-Delivery"]
    _verify(hook["secret"], second)
    entry = hook_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"][0]
    assert (entry["status"], entry["attempts"], entry["response_code"], entry["error"]) == (
        "succeeded",
        2,
        200,
        None,
    )


def test_a_receiver_that_keeps_failing_is_given_up_after_max_attempts(
    hook_client: TestClient, receiver: Receiver
) -> None:
    hook = _register(hook_client, receiver.url)
    receiver.statuses = [500, 502, 503, 200]
    hook_client.post(f"/api/v1/needs/{_first_need_id(hook_client)}/matches")

    _deliver(hook_client)

    assert len(receiver.received) == 3  # webhook_max_attempts
    entry = hook_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"][0]
    assert (entry["status"], entry["attempts"], entry["response_code"]) == ("failed", 3, 503)
    assert entry["error"].startswith("HTTP 503")
    assert entry["next_attempt_at"] is None


def test_redelivery_sends_the_event_again_as_a_new_delivery(hook_client: TestClient, receiver: Receiver) -> None:
    hook = _register(hook_client, receiver.url)
    receiver.statuses = [500, 500, 500]
    hook_client.post(f"/api/v1/needs/{_first_need_id(hook_client)}/matches")
    _deliver(hook_client)
    failed = hook_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"][0]
    assert failed["status"] == "failed"

    response = hook_client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{failed['id']}/redeliver")
    assert response.status_code == 202, response.text
    copy = response.json()
    assert copy["redelivery_of"] == failed["id"] and copy["status"] == "pending"
    _deliver(hook_client)

    assert len(receiver.received) == 4
    document = _verify(hook["secret"], receiver.received[-1])
    assert document["id"] == copy["id"] and document["redelivery_of"] == failed["id"]
    assert document["data"] == json.loads(receiver.received[0].body)["data"]
    log = hook_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()
    statuses = {item["id"]: item["status"] for item in log["items"]}
    assert statuses == {failed["id"]: "failed", copy["id"]: "succeeded"}


def test_registration_outside_the_allowlist_is_a_422(hook_client: TestClient, receiver: Receiver) -> None:
    other_port = "http://127.0.0.1:1/hooks"  # same host, a port the allowlist does not name
    for url, message in (
        (other_port, "not on the webhook allowlist"),
        ("http://169.254.169.254/latest/meta-data", "not on the webhook allowlist"),
        ("ftp://" + receiver.host_port + "/x", "only http and https"),
        (f"http://user:pw@{receiver.host_port}/x", "may not carry credentials"),
    ):
        response = hook_client.post("/api/v1/webhooks", json={"url": url, "events": ["need.matched"]})
        assert response.status_code == 422, url
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["errors"][0]["location"] == ["body", "url"]
        assert message in problem["detail"], problem
    assert hook_client.get("/api/v1/webhooks").json()["total"] == 0


def test_unknown_event_and_bad_update_are_422(hook_client: TestClient, receiver: Receiver) -> None:
    response = hook_client.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["need.deleted"]})
    assert response.status_code == 422
    hook = _register(hook_client, receiver.url)
    moved = hook_client.patch(f"/api/v1/webhooks/{hook['id']}", json={"url": "http://10.0.0.1/x"})
    assert moved.status_code == 422
    assert hook_client.get(f"/api/v1/webhooks/{hook['id']}").json()["url"] == receiver.url


def test_a_host_removed_from_the_allowlist_is_refused_at_send_time(hook_settings: Settings, receiver: Receiver) -> None:
    with TestClient(create_app(hook_settings)) as client:
        authorize(client)
        hook = _register(client, receiver.url)
        client.post(f"/api/v1/needs/{_first_need_id(client)}/matches")
    narrowed = _with(hook_settings, webhook_allowed_hosts=["hooks.example.org"])
    with TestClient(create_app(narrowed)) as client:
        authorize(client)
        _deliver(client)
        entry = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"][0]
    assert receiver.received == []
    assert entry["status"] == "failed" and entry["attempts"] == 1
    assert entry["error"].startswith("refused:") and "allowlist" in entry["error"]


def _resolver(address: str) -> Callable[..., Any]:
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(2, 1, 6, "", (address, port))]

    return resolve


def test_an_allowlisted_name_that_resolves_to_an_internal_address_is_refused() -> None:
    allowed = ["hooks.example.org", "127.0.0.1:9000"]
    url = "https://hooks.example.org/x"
    for internal in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.10", "::1"):
        refusal = destination_refusal(url, allowed, resolve=_resolver(internal))
        assert refusal is not None and "non-public address" in refusal, internal
    assert destination_refusal(url, allowed, resolve=_resolver("93.184.215.14")) is None
    # An address allowlisted as itself is what the admin asked for.
    assert destination_refusal("http://127.0.0.1:9000/x", allowed) is None
    assert destination_refusal("http://127.0.0.1:9001/x", allowed) is not None
    # The real resolver: localhost is a name for the loopback address.
    refusal = destination_refusal("http://localhost:9000/x", ["localhost:9000"])
    assert refusal is not None and "non-public" in refusal


def test_webhooks_belong_to_their_tenant(hook_client: TestClient, receiver: Receiver) -> None:
    hook = _register(hook_client, receiver.url)
    authorize(hook_client, tenant="other")
    assert hook_client.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert hook_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").status_code == 404
    assert hook_client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert hook_client.get("/api/v1/webhooks").json()["total"] == 0


def test_webhooks_need_the_admin_scope(hook_client: TestClient, receiver: Receiver) -> None:
    authorize(hook_client, scopes=("needs:write", "matches:read"))
    response = hook_client.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["need.matched"]})
    assert response.status_code == 403


def test_events_go_only_to_subscriptions_of_their_tenant_and_event(hook_settings: Settings) -> None:
    engine = create_db_engine(hook_settings.database_url)
    factory = create_session_factory(engine)
    try:
        with unit_of_work(factory) as session:
            for tenant, events, active in (
                ("default", ["match.approved"], True),
                ("default", ["need.matched"], True),
                ("default", ["match.approved", "match.rejected"], False),
                ("other", ["match.approved"], True),
            ):
                session.add(
                    WebhookSubscription(tenant=tenant, url="http://x/", events=events, secret="s", active=active)
                )
        with unit_of_work(factory) as session:
            enqueue_event(session, tenant="default", event="match.approved", payload={"match_id": 7})
        with unit_of_work(factory) as session:
            rows = session.scalars(select(WebhookDelivery)).all()
            assert [(r.subscription_id, r.event, r.payload) for r in rows] == [(1, "match.approved", {"match_id": 7})]
    finally:
        engine.dispose()


def test_an_event_is_recorded_only_if_its_transaction_commits(hook_settings: Settings) -> None:
    engine = create_db_engine(hook_settings.database_url)
    factory = create_session_factory(engine)
    try:
        with unit_of_work(factory) as session:
            session.add(WebhookSubscription(tenant="default", url="http://x/", events=["need.matched"], secret="s"))
        with pytest.raises(RuntimeError), unit_of_work(factory) as session:
            enqueue_event(session, tenant="default", event="need.matched", payload={"need_id": 1})
            raise RuntimeError("the change failed")
        with unit_of_work(factory) as session:
            assert session.scalars(select(WebhookDelivery)).all() == []
            with pytest.raises(ValueError, match="unknown webhook event"):
                enqueue_event(session, tenant="default", event="need.deleted", payload={})
    finally:
        engine.dispose()


def test_backoff_doubles_and_is_capped(settings: Settings) -> None:
    configured = _with(settings, webhook_backoff_seconds=30.0, webhook_backoff_max_seconds=200.0)
    waits = [backoff(attempts=n, settings=configured) for n in range(1, 6)]
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 200, 200)]


def test_the_background_worker_delivers_by_itself(loaded_settings: Settings, receiver: Receiver) -> None:
    settings = _with(loaded_settings, webhook_allowed_hosts=[receiver.host_port], webhook_poll_seconds=0.05)
    with TestClient(create_app(settings)) as client:
        authorize(client)
        hook = _register(client, receiver.url)
        client.post(f"/api/v1/needs/{_first_need_id(client)}/matches")
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.received) == 1
        _verify(hook["secret"], receiver.received[0])


def test_the_worker_can_be_switched_off(hook_settings: Settings) -> None:
    app = create_app(hook_settings)
    with TestClient(app):
        assert app.state.webhook_worker is None


def test_urls_are_checked_by_the_parser_that_sends_them(hook_client: TestClient, receiver: Receiver) -> None:
    # urlsplit drops tabs and line breaks ("exa<TAB>mple.org" reads as example.org); httpx refuses them.
    for url in (
        receiver.url.replace("/hooks", "/ho\tok"),
        receiver.url.replace("/hooks", "/ho\nok"),
        f"http://127.0.0.1\t:{receiver.host_port.split(':')[1]}/x",
        "http://exa mple.org/x",
        "http://127.0.0.1:99999/x",
        "http:///x",
    ):
        response = hook_client.post("/api/v1/webhooks", json={"url": url, "events": ["need.matched"]})
        assert response.status_code == 422, (url, response.text)
        assert "not a valid URL" in response.json()["detail"] or "no host" in response.json()["detail"]
    assert hook_client.get("/api/v1/webhooks").json()["total"] == 0


def test_a_delivery_that_cannot_be_sent_fails_once_with_its_reason(
    hook_client: TestClient, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    hook = _register(hook_client, receiver.url)
    app = hook_client.app
    assert isinstance(app, FastAPI)
    # A URL stored before URLs were checked as they are sent.
    with unit_of_work(app.state.session_factory) as session:
        subscription = session.get(WebhookSubscription, hook["id"])
        assert subscription is not None
        subscription.url = receiver.url.replace("/hooks", "/ho\tok")
    hook_client.post(f"/api/v1/needs/{_first_need_id(hook_client)}/matches")

    _deliver(hook_client)

    assert receiver.received == []
    entry = hook_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"][0]
    assert (entry["status"], entry["attempts"], entry["next_attempt_at"]) == ("failed", 1, None)
    assert "not a valid URL" in entry["error"]
    assert not [record for record in caplog.records if record.exc_info], "no traceback for a refused URL"


def test_a_delivery_whose_attempts_were_never_recorded_stops_at_the_maximum(
    hook_client: TestClient, receiver: Receiver
) -> None:
    hook = _register(hook_client, receiver.url)
    hook_client.post(f"/api/v1/needs/{_first_need_id(hook_client)}/matches")
    app = hook_client.app
    assert isinstance(app, FastAPI)
    # Three claims whose sender died before recording an outcome: the lease ran out each time.
    with unit_of_work(app.state.session_factory) as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
        delivery.attempts = 3  # webhook_max_attempts

    _deliver(hook_client)

    assert receiver.received == []
    entry = hook_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"][0]
    assert (entry["status"], entry["attempts"], entry["next_attempt_at"]) == ("failed", 3, None)
    assert "gave up after 3 attempts" in entry["error"]
