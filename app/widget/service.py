"""Sending a need through the widget: the key and origin checked, spam kept out, the need stored for curators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from app.catalogue import service as catalogue
from app.catalogue.schemas import CompanyCreate, NeedCreate
from app.core.auth import RateLimits
from app.core.errors import NotFound
from app.core.schemas import NAME_MAX, TITLE_MAX
from app.core.settings import Settings
from app.keys.service import authenticate
from app.matches import service as matches
from app.models import ApiKey, SubmissionStatus, WidgetSubmission
from app.web.i18n import N_
from app.widget.repository import WidgetSubmissionRepository
from matching.matcher import Matcher

EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,255}\.[^@\s<>.]{2,63}$")
CONTACT_NAME_MAX = 200
EMAIL_MAX = 320
COMPANY_DESCRIPTION = "Sent through the cluster's website widget."


class WidgetRefused(Exception):
    """A sending or a form the widget will not take; `reason` names the visitor's message (app.widget.texts)."""

    def __init__(self, reason: str, *, status: int, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class WidgetForm:
    """What the visitor typed, trimmed."""

    name: str = ""
    email: str = ""
    company: str = ""
    need_title: str = ""
    description: str = ""

    def problems(self, *, max_text_chars: int) -> list[str]:
        """The fields to correct (their message keys are "invalid_<field>")."""
        wrong = []
        if not self.name or len(self.name) > CONTACT_NAME_MAX:
            wrong.append("name")
        if len(self.email) > EMAIL_MAX or not EMAIL.match(self.email):
            wrong.append("email")
        if not self.company or len(self.company) > NAME_MAX:
            wrong.append("company")
        if not self.need_title or len(self.need_title) > TITLE_MAX or "\n" in self.need_title:
            wrong.append("need_title")
        if len(self.description) > max_text_chars:
            wrong.append("description")
        return wrong


@dataclass(frozen=True, slots=True)
class Sending:
    form: WidgetForm
    lang: str
    origin: str | None


def publishable_key(session: Session, *, presented: str) -> ApiKey:
    """The active publishable key `presented` is; any other key (valid or not) is refused alike."""
    if not presented:
        raise WidgetRefused("error_missing_key", status=400)
    key = authenticate(session, presented=presented)
    if key is None or not key.publishable:
        raise WidgetRefused("error_key", status=403)
    return key


def origin_of(url: str | None) -> str | None:
    """The origin ('https://host:port') of a URL or an Origin header; None for none, 'null' or nonsense."""
    if not url or url == "null":
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(key: ApiKey, *, origin: str | None, own_origin: str) -> None:
    """A page of another site than the key's origins (or techmatch itself) may not use the widget.

    The browser enforces the framing (the page's frame-ancestors); this refuses what it tells us: the
    embedding page (Referer of the widget) or the sender of a form (Origin)."""
    if origin is None or origin == own_origin or origin in (key.origins or []):
        return
    raise WidgetRefused("error_origin", status=403)


def spend(limits: RateLimits, *, settings: Settings, key: ApiKey, client: str) -> None:
    """Counts a sending against the key's limit and the client address's; refused (429) past either."""
    waits = [
        limits.spend(namespace="widget-key", key=key.prefix, limit=key.rate_limit or settings.widget_rate_limit),
        limits.spend(namespace="widget-client", key=client, limit=settings.widget_client_rate_limit),
    ]
    retry_after = max((wait for wait in waits if wait is not None), default=None)
    if retry_after is not None:
        raise WidgetRefused("error_rate", status=429, retry_after=retry_after)


def submit(
    session: Session, *, key: ApiKey, sending: Sending, matcher: Matcher, settings: Settings
) -> WidgetSubmission:
    """Stores the need in the key's tenant, under a company of the visitor's naming, pending a curator."""
    form = sending.form
    company = catalogue.create_company(
        session,
        data=CompanyCreate(name=form.company, description=COMPANY_DESCRIPTION),
        settings=settings,
        tenant=key.tenant,
    )
    need = catalogue.create_need(
        session,
        matcher=matcher,
        data=NeedCreate(company_id=company.id, title=form.need_title, description=form.description, lang=sending.lang),
        settings=settings,
        tenant=key.tenant,
    )
    submission = WidgetSubmissionRepository(session).add(
        WidgetSubmission(
            tenant=key.tenant,
            need_id=need.id,
            key_prefix=key.prefix,
            contact_name=form.name,
            contact_email=form.email,
            origin=sending.origin,
        )
    )
    # Proposals for the curators' queue, as for a need described on the SME pages.
    matches.propose(session, need=need, matcher=matcher, settings=settings)
    return submission


def submissions(session: Session, *, tenant: str) -> list[WidgetSubmission]:
    return WidgetSubmissionRepository(session).latest(tenant=tenant)


def mark(session: Session, *, tenant: str, submission_id: int, status: SubmissionStatus) -> WidgetSubmission:
    """A curator marks a sending reviewed (the sender was contacted) or back to pending."""
    submission = WidgetSubmissionRepository(session).get(submission_id, tenant=tenant)
    if submission is None:
        raise NotFound.saying(N_("no widget sending with id %(id)s"), id=submission_id)
    submission.status = status
    return submission
