"""Sign-in guessing: 429 with Retry-After, a wait that doubles, the right password that waits too, the
per-address count, and password hashes never computed more than `slots` at once. No timing assertions:
the waits are read from Retry-After, and the only sleep lets a two-second lock run out."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from app.people.passwords import HashingBusy, Passwords
from app.people.throttle import SignInThrottle
from tests.app.people.conftest import PASSWORD, create_cast, sign_in


def test_the_wait_doubles_after_the_free_failures_up_to_the_cap(settings: Settings) -> None:
    throttle = SignInThrottle(
        settings.model_copy(
            update={"signin_free_failures": 3, "signin_backoff_seconds": 2, "signin_backoff_max_seconds": 20}
        )
    )
    assert [throttle.delay("account", n) for n in range(1, 10)] == [0, 0, 0, 2, 4, 8, 16, 20, 20]
    assert throttle.delay("account", 10**6) == 20


@pytest.fixture
def guarded(loaded_settings: Settings) -> Iterator[tuple[TestClient, FastAPI]]:
    settings = loaded_settings.model_copy(
        update={
            "signin_free_failures": 2,
            "signin_free_failures_per_address": 100,
            # Two seconds: long enough that the next request surely comes while the lock holds.
            "signin_backoff_seconds": 2,
            "signin_backoff_max_seconds": 60,
        }
    )
    app = create_app(settings)
    create_cast(app)
    with TestClient(app) as client:
        yield client, app
    app.state.engine.dispose()


def _retry_after(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text[:300]
    seconds = int(response.headers["retry-after"])
    assert re.search(rf"Try again in {seconds} seconds", response.text)
    return seconds


def test_an_account_is_locked_with_a_growing_wait_even_for_the_right_password(
    guarded: tuple[TestClient, FastAPI],
) -> None:
    client, _ = guarded
    assert sign_in(client, "cora", "guess number one").status_code == 401
    assert sign_in(client, "cora", "guess number two").status_code == 401
    first = _retry_after(sign_in(client, "cora", "guess number three"))  # the failure that starts the lock
    assert first == 2
    assert _retry_after(sign_in(client, "cora", PASSWORD)) >= 1  # the right password waits too
    assert client.get("/review", follow_redirects=False).status_code == 303  # and did not sign in

    time.sleep(first + 0.1)
    second = _retry_after(sign_in(client, "cora", "guess number four"))
    assert second == 2 * first
    assert _retry_after(sign_in(client, "cora", PASSWORD)) >= 1
    # Another account from the same address is not locked by this one.
    assert sign_in(client, "fay").status_code == 303


def test_a_successful_sign_in_forgets_the_accounts_failures_not_the_addresses(settings: Settings) -> None:
    throttle = SignInThrottle(settings)
    for _ in range(3):
        throttle.failed(account="person:1", address="10.0.0.1")
    assert throttle.failures("account", "person:1") == 3 and throttle.failures("address", "10.0.0.1") == 3
    throttle.succeeded(account="person:1")
    assert throttle.failures("account", "person:1") == 0 and throttle.failures("address", "10.0.0.1") == 3


def test_an_address_is_locked_after_its_free_failures(loaded_settings: Settings) -> None:
    settings = loaded_settings.model_copy(
        update={"signin_free_failures": 100, "signin_free_failures_per_address": 3, "signin_backoff_seconds": 30}
    )
    app = create_app(settings)
    create_cast(app)
    with TestClient(app) as client:
        for n in range(3):
            assert sign_in(client, f"nobody-{n}", "some guess here").status_code == 401
        assert _retry_after(sign_in(client, "nobody-3", "some guess here")) == 30
        # Every account from this address now waits, the right password of a real one too.
        assert _retry_after(sign_in(client, "cora", PASSWORD)) >= 29
    app.state.engine.dispose()


def test_username_and_email_share_one_count(guarded: tuple[TestClient, FastAPI]) -> None:
    client, app = guarded
    from app.core.database import unit_of_work
    from app.people import service as people

    with unit_of_work(app.state.session_factory) as session:
        person = people.find_person(session, username="sam")
        assert person is not None
        person.email = "sam@example.org"
    assert sign_in(client, "sam", "guess number one").status_code == 401
    assert sign_in(client, "sam@example.org", "guess number two").status_code == 401
    assert sign_in(client, "SAM@example.org", "guess number three").status_code == 429


class _SlowHasher:
    """Stands in for argon2: takes a moment and records how many run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.calls = 0
        self._lock = threading.Lock()

    def _work(self) -> None:
        with self._lock:
            self.running += 1
            self.calls += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.02)
        with self._lock:
            self.running -= 1

    def hash(self, password: str) -> str:
        self._work()
        return f"slow${password}"

    def verify(self, hash: str, password: str) -> bool:
        self._work()
        return hash == f"slow${password}"

    def check_needs_rehash(self, hash: str) -> bool:
        return False


def test_concurrent_hashing_never_exceeds_the_bound() -> None:
    hasher = _SlowHasher()
    passwords = Passwords(slots=2, queue=100, hasher=hasher)
    stored = passwords.hash("a long password")
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda n: passwords.verify(stored, "a long password" if n % 2 else "wrong"), range(64)))
    assert results.count(True) == 32
    assert hasher.calls == 65 and hasher.peak == 2


def test_past_the_queue_a_hash_is_refused_not_queued() -> None:
    hasher = _SlowHasher()
    passwords = Passwords(slots=1, queue=1, hasher=hasher)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(_: int) -> None:
        try:
            passwords.hash("a long password")
            outcome = "hashed"
        except HashingBusy as exc:
            assert exc.status == 503 and exc.headers == {"Retry-After": "2"}
            outcome = "busy"
        with lock:
            outcomes.append(outcome)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(attempt, range(8)))
    assert "busy" in outcomes and "hashed" in outcomes and hasher.peak == 1


def test_the_server_hashes_sign_ins_within_its_bound(loaded_settings: Settings) -> None:
    app = create_app(
        loaded_settings.model_copy(update={"password_hash_slots": 2, "signin_free_failures_per_address": 1000})
    )
    create_cast(app)
    hasher = _SlowHasher()
    app.state.passwords = Passwords(slots=2, queue=100, hasher=hasher)

    def guess(n: int) -> int:
        # Not entered: the app is started once below; each guesser has its own cookies.
        return sign_in(TestClient(app), f"guesser-{n}", "not a password").status_code

    with TestClient(app), ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(guess, range(16)))
    assert statuses == [401] * 16
    assert hasher.peak <= 2 and hasher.calls >= 16
    app.state.engine.dispose()
