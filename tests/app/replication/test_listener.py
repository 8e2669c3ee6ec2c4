"""The PostgreSQL listener: a commit's notification wakes the follower at once, and it stops at once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.core.database import create_db_engine
from app.replication import listener as listener_module
from app.replication.listener import ChangeListener
from app.replication.log import CHANNEL
from tests.app.databases import SERVER_URL

pytestmark = pytest.mark.skipif(SERVER_URL is None, reason="LISTEN needs PostgreSQL (scripts/test-postgres.sh)")


class Follower:
    def __init__(self) -> None:
        self.listening = False
        self.woken = threading.Event()
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1
        self.woken.set()


def _until(condition: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


# With a 30 s wait for notifications, only the notification itself (or stop's interrupt) can end it
# within the few seconds these tests allow.
LONG_WAIT_S = 30.0


def test_a_notification_wakes_the_follower_and_stop_does_not_wait_out_the_poll(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listener_module, "WAIT_S", LONG_WAIT_S)
    follower = Follower()
    listener = ChangeListener(make_url(database_url), follower=follower)
    listener.start()
    engine = create_db_engine(database_url)
    try:
        assert _until(lambda: follower.listening)
        # Connecting wakes the follower once, in case a change came before the LISTEN.
        assert follower.woken.wait(5)
        follower.woken.clear()
        before = follower.wakes
        with engine.begin() as connection:
            connection.execute(select(func.pg_notify(CHANNEL, "42")))
        assert follower.woken.wait(5), "the notification must wake the follower, not the end of the wait"
        assert follower.wakes == before + 1
    finally:
        engine.dispose()
        started = time.monotonic()
        listener.stop()
        stopped_in = time.monotonic() - started
    assert stopped_in < 5, f"stop took {stopped_in:.1f} s: it waited out the wait for notifications"
    assert not follower.listening


def test_stop_before_start_and_twice_is_harmless(database_url: str) -> None:
    listener = ChangeListener(make_url(database_url), follower=Follower())
    listener.stop()
    listener.stop()
