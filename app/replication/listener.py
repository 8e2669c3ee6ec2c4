"""PostgreSQL's LISTEN on the change channel: wakes the follower the moment a writer commits."""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from typing import Protocol

import psycopg
from sqlalchemy.engine import URL

from app.replication.log import CHANNEL

logger = logging.getLogger(__name__)


class Wakeable(Protocol):
    """What the listener needs of the follower (app/replication/service.py)."""

    listening: bool

    def wake(self) -> None: ...


# A dead connection is noticed within this (the wait for notifications returns to check it).
WAIT_S = 1.0
RECONNECT_MAX_S = 30.0


def libpq_url(url: URL) -> str:
    """The SQLAlchemy URL as libpq reads it (no '+psycopg' driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeListener:
    """A thread with a connection of its own that LISTENs and wakes the follower on each notification.

    Only a wake-up: the follower reads the log itself, so a lost notification (the connection dropped)
    costs at most one poll interval, and reconnecting wakes the follower once in case it missed one.
    """

    def __init__(self, url: URL, *, follower: Wakeable) -> None:
        self.url = libpq_url(url)
        self.channel = CHANNEL
        self.follower = follower
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # stop() writes a byte here to end the wait for notifications at once, not after WAIT_S.
        self._interrupt, self._interrupter = socket.socketpair()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="techmatch-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):  # already stopped once
            self._interrupter.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=WAIT_S + 5)
            if self._thread.is_alive():
                return  # stuck in a connect: it still reads the interrupt socket when it gets out
        self._interrupt.close()
        self._interrupter.close()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {self.channel}")
                    self.follower.listening = True
                    self.follower.wake()
                    backoff = 0.5
                    while not self._stop.is_set():
                        ready, _, _ = select.select([connection.fileno(), self._interrupt.fileno()], [], [], WAIT_S)
                        if self._stop.is_set():
                            break
                        # timeout=0 takes what has arrived without waiting; a dropped connection
                        # shows as readable, and reading it raises, which reconnects below.
                        if connection.fileno() in ready and any(True for _ in connection.notifies(timeout=0)):
                            self.follower.wake()
            except psycopg.Error as exc:
                logger.warning("listening for changes failed (polling meanwhile): %s", exc)
            finally:
                self.follower.listening = False
            self._stop.wait(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX_S)
