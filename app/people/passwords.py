"""Password hashes (argon2id), at most a few computed at once: guessing cannot take every core or gigabytes.

argon2-cffi's defaults are RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes, tens of
milliseconds of a core. Forty request threads hashing together would hold 2.5 GiB and every core, so
each hash takes one of `slots`; `queue` more may wait for one, and past that the request is answered
503 with Retry-After (the sign-in throttle, app/people/throttle.py, refuses most guesses before they
get here).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.errors import AppError

RETRY_AFTER_S = 2
WAIT_S = 30.0


class Hasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, hash: str, password: str) -> bool: ...

    def check_needs_rehash(self, hash: str) -> bool: ...


class HashingBusy(AppError):
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "too many sign-ins are being checked at once; retry in a moment",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )


class Passwords:
    """Hashes and verifies passwords, at most `slots` at a time (None: no bound, for the CLI)."""

    def __init__(self, *, slots: int | None = None, queue: int = 0, hasher: Hasher | None = None) -> None:
        self._hasher: Hasher = hasher or PasswordHasher()
        self._slots = threading.BoundedSemaphore(slots) if slots else None
        self._queue = queue
        self._lock = threading.Lock()
        self._waiting = 0
        self._dummy: str | None = None

    @contextmanager
    def _slot(self) -> Iterator[None]:
        if self._slots is None:
            yield
            return
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._waiting >= self._queue:
                    raise HashingBusy()
                self._waiting += 1
            try:
                acquired = self._slots.acquire(timeout=WAIT_S)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not acquired:
                raise HashingBusy()
        try:
            yield
        finally:
            self._slots.release()

    def hash(self, password: str) -> str:
        with self._slot():
            return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._slot():
            try:
                return self._hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

    def verify_nobody(self, password: str) -> None:
        """The work of a verification for an unknown username, so a failed sign-in costs the same either way."""
        if self._dummy is None:
            self._dummy = self.hash("not a password of anyone")
        self.verify(self._dummy, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with weaker parameters than today's (reads its header; no hashing)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
