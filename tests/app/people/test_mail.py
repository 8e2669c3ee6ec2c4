"""The invitation e-mail, in English or Danish."""

from __future__ import annotations

from app.core.settings import Settings
from app.people import mail


def _message(settings: Settings, language: str) -> tuple[str, str]:
    message = mail.invitation_message(
        settings=settings,
        to="mette@example.com",
        link="https://techmatch.example/invitations/abc",
        inviter="cora",
        role="sme",
        bound_to="Fyn Metal ApS",
        expires="2026-12-09 12:00 UTC",
        language=language,
    )
    return str(message["Subject"]), message.get_content()


def test_the_invitation_speaks_the_chosen_language(settings: Settings) -> None:
    subject, body = _message(settings, "da")
    assert subject == "Din invitation til techmatch"
    assert "cora inviterer dig til techmatch som medlem for Fyn Metal ApS" in body
    assert "https://techmatch.example/invitations/abc" in body and "2026-12-09 12:00 UTC" in body
    subject, body = _message(settings, "en")
    assert (
        subject == "Your invitation to techmatch" and "invites you to techmatch as a member for Fyn Metal ApS" in body
    )
    assert _message(settings, "fr")[0] == "Your invitation to techmatch"
