"""The form's signed timestamp: proves when the form was shown, so a too-fast or stale sending is refused."""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac


class Verdict(enum.StrEnum):
    ok = "ok"
    invalid = "invalid"
    too_fast = "too_fast"
    expired = "expired"


def _signature(secret: str, key_prefix: str, issued_at: int) -> str:
    mac = hmac.new(secret.encode(), f"widget:{key_prefix}:{issued_at}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue(*, secret: str, key_prefix: str, now: float) -> str:
    """A token for a form shown `now` for the key with `key_prefix`; valid for that key only."""
    issued_at = int(now)
    return f"{issued_at}.{_signature(secret, key_prefix, issued_at)}"


def check(*, secret: str, token: str, key_prefix: str, now: float, min_age: int, max_age: int) -> Verdict:
    stamp, _, signature = token.partition(".")
    if not stamp.isdigit() or len(stamp) > 12:
        return Verdict.invalid
    issued_at = int(stamp)
    if not hmac.compare_digest(signature, _signature(secret, key_prefix, issued_at)):
        return Verdict.invalid
    age = now - issued_at
    if age < min_age:
        return Verdict.too_fast
    if age > max_age:
        return Verdict.expired
    return Verdict.ok
