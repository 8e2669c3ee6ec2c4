"""Pages of people: sign-in and sign-out, `/`, one's own account, and invitations (staff send, anyone accepts)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.core.deps import SessionDep, SettingsDep
from app.core.errors import AppError
from app.models import Invitation, Role
from app.people import mail
from app.people import service as people
from app.people.passwords import HashingBusy
from app.people.throttle import SignInThrottled
from app.web.i18n import N_
from app.web.rendering import flash, language_of, render, say_problem, translate
from app.web.security import (
    CsrfDep,
    PasswordsDep,
    SignedInDep,
    SignInThrottleDep,
    StaffDep,
    VisitorDep,
    client_address,
    home_of,
    may_open,
    session_token,
    sign_in,
    sign_out,
)

router = APIRouter(include_in_schema=False)

# What the pages say from Python; everything else is in the templates.
# (English message ids of the catalogues, app/web/locale: shown through translate()).
SIGNED_OUT = N_("Signed out.")
THROTTLED = N_("Too many failed sign-ins for this account or from this address. Try again in {seconds} seconds.")
BUSY = N_("Too many sign-ins are being checked right now. Try again in a moment.")
PASSWORD_CHANGED = N_("Password changed. Your other sessions have been signed out.")
PASSWORDS_DIFFER = N_("The two new passwords differ.")
ACCOUNT_READY = N_("Your account is ready: sign in with the username and password you chose.")
MAIL_SENT = N_("The invitation was e-mailed to {email}.")
MAIL_FAILED = N_("The e-mail could not be sent ({reason}); copy the link instead.")
ROLE_LABELS = {
    Role.curator: N_("curator"),
    Role.facilitator: N_("facilitator"),
    Role.sme: N_("SME member"),
    Role.provider: N_("provider member"),
}


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str | None:
    # Only paths of this site: an open redirect would make the sign-in page a phishing aid.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) <= 2000:
        return target
    return None


@router.get("/")
def root(person: VisitorDep) -> Response:
    return _redirect(home_of(person) if person is not None else "/login")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, person: VisitorDep, next: str | None = None, username: str | None = None) -> Response:
    if person is not None:
        target = _safe_next(next)
        return _redirect(target if target and may_open(request.app, target.split("?")[0], person) else home_of(person))
    context = {"next": _safe_next(next), "error": None, "username": (username or "")[:320]}
    return render(request, "people/login.html", context)


@router.get("/review/login")
def old_login_page(_visitor: VisitorDep, next: str | None = None) -> Response:
    """The curator sign-in's old address: now the one sign-in page for everyone."""
    target = _safe_next(next)
    return _redirect("/login" + (f"?{urlencode({'next': target})}" if target else ""))


def _login(
    request: Request,
    session: SessionDep,
    throttle: SignInThrottleDep,
    passwords: PasswordsDep,
    username: str,
    password: str,
    next: str | None,
) -> Response:
    target = _safe_next(next)
    context = {"next": target, "username": username}
    try:
        person = people.sign_in(
            session,
            identifier=username,
            password=password,
            address=client_address(request),
            throttle=throttle,
            passwords=passwords,
        )
    except SignInThrottled as exc:
        message = translate(request, THROTTLED).format(seconds=exc.retry_after)
        return render(request, "people/login.html", {**context, "error": message}, status_code=429, headers=exc.headers)
    except HashingBusy as exc:
        return render(
            request,
            "people/login.html",
            {**context, "error": translate(request, BUSY)},
            status_code=503,
            headers=exc.headers,
        )
    except people.SignInFailed as exc:
        return render(request, "people/login.html", {**context, "error": say_problem(request, exc)}, status_code=401)
    sign_in(request, session, person)
    if target and may_open(request.app, target.split("?")[0], person):
        return _redirect(target)
    return _redirect(home_of(person))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    _csrf: CsrfDep,
    _visitor: VisitorDep,
    session: SessionDep,
    throttle: SignInThrottleDep,
    passwords: PasswordsDep,
    username: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=people.MAX_PASSWORD_CHARS)] = "",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    return _login(request, session, throttle, passwords, username, password, next)


@router.post("/review/login", response_class=HTMLResponse)
def old_login(
    request: Request,
    _csrf: CsrfDep,
    _visitor: VisitorDep,
    session: SessionDep,
    throttle: SignInThrottleDep,
    passwords: PasswordsDep,
    username: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=people.MAX_PASSWORD_CHARS)] = "",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Forms of the old curator sign-in page, still open in a tab, keep working."""
    return _login(request, session, throttle, passwords, username, password, next)


def _logout(request: Request, session: SessionDep) -> Response:
    sign_out(request, session)
    flash(request, "info", translate(request, SIGNED_OUT))
    return _redirect("/login")


@router.post("/logout")
def logout(request: Request, _csrf: CsrfDep, _person: SignedInDep, session: SessionDep) -> Response:
    return _logout(request, session)


@router.post("/review/logout")
def old_logout(request: Request, _csrf: CsrfDep, _person: SignedInDep, session: SessionDep) -> Response:
    return _logout(request, session)


# One's own account


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, person: SignedInDep, session: SessionDep) -> Response:
    return render(request, "people/account.html", _account_context(session, person))


def _account_context(session: SessionDep, person: SignedInDep) -> dict[str, object]:
    return {
        "role_label": ROLE_LABELS[person.role],
        "bound_to": people.bound_to(session, person),
        "home": home_of(person),
        "min_password": people.MIN_PASSWORD_CHARS,
    }


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    _csrf: CsrfDep,
    person: SignedInDep,
    session: SessionDep,
    passwords: PasswordsDep,
    current_password: Annotated[str, Form(max_length=people.MAX_PASSWORD_CHARS)] = "",
    new_password: Annotated[str, Form(max_length=people.MAX_PASSWORD_CHARS)] = "",
    new_password_again: Annotated[str, Form(max_length=people.MAX_PASSWORD_CHARS)] = "",
) -> Response:
    context = _account_context(session, person)
    if new_password != new_password_again:
        return render(
            request, "people/account.html", {**context, "error": translate(request, PASSWORDS_DIFFER)}, status_code=422
        )
    try:
        people.change_password(
            session,
            person=person,
            current=current_password,
            new=new_password,
            keeping_token=session_token(request),
            passwords=passwords,
        )
    except AppError as exc:  # a wrong current password, a short new one, or the hash queue full (503)
        session.rollback()
        context = {**context, "error": say_problem(request, exc)}
        return render(request, "people/account.html", context, status_code=exc.status, headers=exc.headers)
    flash(request, "ok", translate(request, PASSWORD_CHANGED))
    return _redirect("/account")


@router.post("/account/language")
def choose_language(
    request: Request,
    _csrf: CsrfDep,
    person: SignedInDep,
    session: SessionDep,
    language: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    """Stores the pages' language of the signed-in person and goes back to the page it was chosen on."""
    try:
        people.set_language(session, person=person, language=language)
    except AppError as exc:
        return render(request, "error.html", {"message": say_problem(request, exc)}, status_code=exc.status)
    return _redirect(_safe_next(next) or home_of(person))


# Invitations: staff create them; the link's holder accepts.


def _invitations_context(session: SessionDep, person: StaffDep) -> dict[str, object]:
    return {
        "roles": ROLE_LABELS,
        "companies": people.companies_of(session, tenant=person.tenant),
        "providers": people.providers_of(session, tenant=person.tenant),
        "invitations": people.recent_invitations(session, tenant=person.tenant),
        "state": people.invitation_state,
        "home": home_of(person),
    }


@router.get("/people/invitations", response_class=HTMLResponse)
def invitations_page(request: Request, person: StaffDep, session: SessionDep) -> Response:
    return render(request, "people/invitations.html", _invitations_context(session, person))


@router.post("/people/invitations", response_class=HTMLResponse)
def invite(
    request: Request,
    _csrf: CsrfDep,
    person: StaffDep,
    session: SessionDep,
    settings: SettingsDep,
    role: Annotated[str, Form(max_length=20)] = "",
    company_id: Annotated[str, Form(max_length=20)] = "",
    provider_id: Annotated[str, Form(max_length=20)] = "",
    email: Annotated[str, Form(max_length=people.MAX_EMAIL_CHARS)] = "",
    email_language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    try:
        chosen = people.parse_role(role)
        created = people.invite(
            session,
            tenant=person.tenant,
            role=chosen,
            invited_by=person.username,
            days=settings.invitation_days,
            # Only the field the role needs is read, so a form that kept both selections still works.
            company_id=people.parse_id(company_id, "company_id") if chosen is Role.sme else None,
            provider_id=people.parse_id(provider_id, "provider_id") if chosen is Role.provider else None,
            email=email,
        )
    except AppError as exc:
        session.rollback()
        context = {
            **_invitations_context(session, person),
            "error": say_problem(request, exc),
            "form": {"role": role, "email": email},
        }
        return render(request, "people/invitations.html", context, status_code=exc.status)
    link = created.link(settings.public_url or str(request.base_url))
    notice = None
    invitation = created.invitation
    if invitation.email and mail.mail_configured(settings):
        # Sent before the request's commit: a failed commit after it (rare: the rows are already flushed)
        # leaves a link that says it is not valid, never an account nobody was told about.
        try:
            people.mail_invitation(
                settings=settings,
                session=session,
                created=created,
                link=link,
                inviter=person,
                language=email_language or language_of(request),
            )
            notice = ("ok", translate(request, MAIL_SENT).format(email=invitation.email))
        except mail.MailFailed as exc:
            notice = ("error", translate(request, MAIL_FAILED).format(reason=exc.detail))
    context = {
        **_invitations_context(session, person),
        "created": invitation,
        "link": link,
        "notice": notice,
        "bound_to": people.invitation_bound_to(session, invitation),
    }
    return render(request, "people/invitations.html", context, status_code=201)


@router.get("/invitations/{token}", response_class=HTMLResponse)
def invitation_page(token: str, request: Request, _visitor: VisitorDep, session: SessionDep) -> Response:
    try:
        invitation = people.open_invitation(session, token=token)
    except AppError as exc:
        return render(request, "error.html", {"message": say_problem(request, exc)}, status_code=exc.status)
    return render(request, "people/accept.html", _accept_context(session, invitation, token))


def _accept_context(session: SessionDep, invitation: Invitation, token: str) -> dict[str, object]:
    return {
        "invitation": invitation,
        "token": token,
        "role_label": ROLE_LABELS[invitation.role],
        "bound_to": people.invitation_bound_to(session, invitation),
        "min_password": people.MIN_PASSWORD_CHARS,
    }


@router.post("/invitations/{token}", response_class=HTMLResponse)
def accept_invitation(
    token: str,
    request: Request,
    _csrf: CsrfDep,
    _visitor: VisitorDep,
    session: SessionDep,
    passwords: PasswordsDep,
    username: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=people.MAX_EMAIL_CHARS)] = "",
    password: Annotated[str, Form(max_length=people.MAX_PASSWORD_CHARS)] = "",
    password_again: Annotated[str, Form(max_length=people.MAX_PASSWORD_CHARS)] = "",
) -> Response:
    try:
        invitation = people.open_invitation(session, token=token)
    except AppError as exc:
        return render(request, "error.html", {"message": say_problem(request, exc)}, status_code=exc.status)
    context = {**_accept_context(session, invitation, token), "username": username, "email": email}
    if password != password_again:
        return render(
            request, "people/accept.html", {**context, "error": translate(request, PASSWORDS_DIFFER)}, status_code=422
        )
    try:
        person = people.accept_invitation(
            session, token=token, username=username, password=password, email=email, passwords=passwords
        )
    except HashingBusy as exc:
        session.rollback()
        return render(
            request,
            "people/accept.html",
            {**context, "error": translate(request, BUSY)},
            status_code=503,
            headers=exc.headers,
        )
    except AppError as exc:
        session.rollback()
        return render(
            request, "people/accept.html", {**context, "error": say_problem(request, exc)}, status_code=exc.status
        )
    # Whoever was signed in in this browser is not the new person: sign in afresh.
    sign_out(request, session)
    flash(request, "ok", translate(request, ACCOUNT_READY))
    return _redirect("/login?" + urlencode({"username": person.username}))
