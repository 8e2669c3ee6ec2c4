"""Invitation e-mails over SMTP (smtplib), sent only when TECHMATCH_SMTP_HOST is set."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from app.core.errors import AppError
from app.core.settings import Settings

logger = logging.getLogger(__name__)

# The e-mail's words, in one place.
SUBJECT = "Your invitation to techmatch"
BODY = """Hello,

{inviter} invites you to techmatch as {role_label}{bound}.

Open this link to choose your username and password (it works once, until {expires}):

{link}

If you did not expect this e-mail, ignore it; nothing happens unless the link is opened.
"""


class MailFailed(AppError):
    status = 502


def mail_configured(settings: Settings) -> bool:
    return settings.smtp_host is not None


def invitation_message(
    *, settings: Settings, to: str, link: str, inviter: str, role_label: str, bound_to: str | None, expires: str
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = SUBJECT
    message["From"] = settings.smtp_from
    message["To"] = to
    message.set_content(
        BODY.format(
            inviter=inviter,
            role_label=role_label,
            bound=f" for {bound_to}" if bound_to else "",
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
