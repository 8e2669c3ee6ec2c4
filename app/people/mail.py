"""Invitation e-mails over SMTP (smtplib), sent only when TECHMATCH_SMTP_HOST is set."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from app.core.errors import AppError
from app.core.settings import Settings

logger = logging.getLogger(__name__)

# The e-mail's words, in one place, in the languages of the pages (the inviter picks one on the form).
SUBJECT = {"en": "Your invitation to techmatch", "da": "Din invitation til techmatch"}
BODY = {
    "en": """Hello,

{inviter} invites you to techmatch as {role_label}{bound}.

Open this link to choose your username and password (it works once, until {expires}):

{link}

If you did not expect this e-mail, ignore it; nothing happens unless the link is opened.
""",
    "da": """Hej,

{inviter} inviterer dig til techmatch som {role_label}{bound}.

Åbn dette link for at vælge dit brugernavn og din adgangskode (det virker én gang, indtil {expires}):

{link}

Hvis du ikke ventede denne e-mail, så se bort fra den; der sker intet, medmindre linket åbnes.
""",
}
FOR = {"en": " for {bound_to}", "da": " for {bound_to}"}
ROLE_LABELS = {
    "en": {"curator": "a curator", "facilitator": "a facilitator", "sme": "a member", "provider": "a member"},
    "da": {"curator": "kurator", "facilitator": "facilitator", "sme": "medlem", "provider": "medlem"},
}


class MailFailed(AppError):
    status = 502


def mail_configured(settings: Settings) -> bool:
    return settings.smtp_host is not None


def invitation_message(
    *,
    settings: Settings,
    to: str,
    link: str,
    inviter: str,
    role: str,
    bound_to: str | None,
    expires: str,
    language: str = "en",
) -> EmailMessage:
    """The invitation e-mail in `language` ("en" or "da"; another is written in English)."""
    language = language if language in BODY else "en"
    message = EmailMessage()
    message["Subject"] = SUBJECT[language]
    message["From"] = settings.smtp_from
    message["To"] = to
    message.set_content(
        BODY[language].format(
            inviter=inviter,
            role_label=ROLE_LABELS[language].get(role, role),
            bound=FOR[language].format(bound_to=bound_to) if bound_to else "",
            expires=expires,
            link=link,
        )
    )
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    """Sends `message` through the configured server; MailFailed when it cannot."""
    assert settings.smtp_host is not None
    timeout = settings.smtp_timeout_seconds
    try:
        smtp: smtplib.SMTP
        if settings.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username and settings.smtp_password is not None:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("invitation e-mail to %s not sent: %s", message["To"], exc)
        raise MailFailed(f"the e-mail could not be sent ({type(exc).__name__}: {exc})") from exc
