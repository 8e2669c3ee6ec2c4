"""Sign-in guessing held back: failures counted per account and per client address, with a doubling wait.

The counters live in the `limits` library's storage named by TECHMATCH_RATE_LIMIT_STORAGE (memory
by default; a shared store such as Redis when several processes serve), as fixed windows that
start at their first hit:

- failures of an account (or client address) are counted in a window of
  `signin_failure_window_seconds` from the first one; an account's are cleared when it signs in;
- the first `signin_free_failures` of an account (`signin_free_failures_per_address` of an address)
  cost nothing more; each one after that locks the account (address) for
  `signin_backoff_seconds` * 2**(n - free - 1) seconds, at most `signin_backoff_max_seconds`. The
  lock is one more window, of exactly that length, keyed by the failure count, hit once.

An attempt on a locked account or from a locked address is refused before any password is hashed,
whether its password is right or not: 429 with Retry-After.
"""

from __future__ import annotations

import math
import time
from typing import Literal

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.core.errors import TooManyRequests
from app.core.settings import Settings

Subject = Literal["account", "address"]
NAMESPACE = "signin"
# The failure counter is a window with a ceiling no one reaches: only its count is read.
_CEILING = 1_000_000
_MAX_DOUBLINGS = 40


class SignInThrottled(TooManyRequests):
    """Too many failed sign-ins for an account or from an address; `retry_after` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed sign-ins for this account or from this address; try again in {retry_after} s",
            retry_after=retry_after,
        )
        self.retry_after = retry_after


class SignInThrottle:
    def __init__(self, settings: Settings, *, storage: Storage | None = None) -> None:
        self._limiter = FixedWindowRateLimiter(storage or storage_from_string(settings.rate_limit_storage))
        self._counter = RateLimitItemPerSecond(_CEILING, settings.signin_failure_window_seconds)
        self._free: dict[Subject, int] = {
            "account": settings.signin_free_failures,
            "address": settings.signin_free_failures_per_address,
        }
        self._base = settings.signin_backoff_seconds
        self._max = settings.signin_backoff_max_seconds

    def delay(self, subject: Subject, failures: int) -> int:
        """Seconds an account or address is locked after its `failures`-th failure (0 while still free)."""
        over = failures - self._free[subject]
        if over <= 0:
            return 0
        return int(min(self._base * 2 ** min(over - 1, _MAX_DOUBLINGS), self._max))

    def failures(self, subject: Subject, who: str) -> int:
        return _CEILING - self._limiter.get_window_stats(self._counter, NAMESPACE, subject, who).remaining

    def wait(self, *, account: str, address: str) -> int:
        """Seconds until the account and the address may try again (0: now)."""
        longest = 0
        for subject, who in self._subjects(account, address):
            count = self.failures(subject, who)
            seconds = self.delay(subject, count)
            if not seconds:
                continue
            lock = _lock(seconds)
            if not self._limiter.test(lock, NAMESPACE, "lock", subject, who, str(count)):
                reset = self._limiter.get_window_stats(lock, NAMESPACE, "lock", subject, who, str(count)).reset_time
                longest = max(longest, max(1, math.ceil(reset - time.time())))
        return longest

    def check(self, *, account: str, address: str) -> None:
        """Refuses (429) an attempt while the account or the address is locked."""
        seconds = self.wait(account=account, address=address)
        if seconds:
            raise SignInThrottled(seconds)

    def failed(self, *, account: str, address: str) -> int:
        """Counts a failed attempt; returns how long the next attempt must wait (0: no lock yet)."""
        for subject, who in self._subjects(account, address):
            self._limiter.hit(self._counter, NAMESPACE, subject, who)
            count = self.failures(subject, who)
            seconds = self.delay(subject, count)
            if seconds:
                self._limiter.hit(_lock(seconds), NAMESPACE, "lock", subject, who, str(count))
        return self.wait(account=account, address=address)

    @staticmethod
    def _subjects(account: str, address: str) -> tuple[tuple[Subject, str], ...]:
        return (("account", account), ("address", address))

    def succeeded(self, *, account: str) -> None:
        """The account's failures are forgotten (not the address's: one own account must not reset it)."""
        self._limiter.clear(self._counter, NAMESPACE, "account", account)


def _lock(seconds: int) -> RateLimitItem:
    return RateLimitItemPerSecond(1, seconds)
