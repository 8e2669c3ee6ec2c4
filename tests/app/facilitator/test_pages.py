"""The facilitator's pages over HTTP: who may open them, bad input answered with a page, a demo day planned,
revised with a locked pair kept, compared, printed and exported; an engagement moved; the programme read."""

from __future__ import annotations

import re
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.database import unit_of_work
from app.models import Engagement, Role
from app.pairing import service as pairing
from tests.app.people.conftest import Cast, csrf, sign_in

PAGES = (
    "/facilitator/demo-days",
    "/facilitator/engagements",
    "/facilitator/programme",
    "/facilitator/programme/report",
)


def _form_ids(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="(\d+)"', html)


def _wait(client: TestClient, location: str) -> str:
    """Follows an optimiser run's status until it has finished; the run page's location then."""
    run_id = location.rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = client.get(f"/facilitator/demo-days/runs/{run_id}/status").json()
        if state["state"] != "running":
            assert state["state"] == "done", state
            return str(state["plan_url"])
        time.sleep(0.2)
    raise AssertionError("the run did not finish in 60 s")


def _plan(client: TestClient, **fields: str) -> str:
    page = client.get("/facilitator/demo-days").text
    companies, providers = _form_ids(page, "company"), _form_ids(page, "provider")
    data: dict[str, object] = {
        "csrf_token": csrf(client, "/facilitator/demo-days"),
        "name": "Spring demo day",
        "rounds": "3",
        "tables": "1",
        "max_per_company": "2",
        "default_capacity": "3",
        "fairness": "coverage",
        "company": companies,
        "provider": providers,
        **fields,
    }
    response = client.post("/facilitator/demo-days", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/facilitator/demo-days/runs/")
    return _wait(client, response.headers["location"])


@pytest.mark.parametrize("role", [Role.curator, Role.sme, Role.provider])
def test_other_roles_are_refused(role: Role, web: TestClient, cast: Cast) -> None:
    assert sign_in(web, cast.usernames[role]).status_code == 303
    for path in PAGES:
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert "not for your role" in response.text


def test_nobody_signed_in_is_sent_to_sign_in(web: TestClient) -> None:
    response = web.get("/facilitator/demo-days", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_bad_input_gets_a_page_that_says_what_is_wrong(facilitator: TestClient) -> None:
    token = csrf(facilitator, "/facilitator/demo-days")
    response = facilitator.post(
        "/facilitator/demo-days",
        data={"csrf_token": token, "name": "", "rounds": "three", "max_per_company": "2", "provider": ["x"]},
    )
    assert response.status_code == 422
    text = response.text
    for words in ("Give the demo day a name", "Pick at least one SME", "Rounds must be a whole number"):
        assert words in text
    assert facilitator.get("/facilitator/demo-days/999999").status_code == 404
    for page in ("export.html", "export.csv", "export.xlsx", "heatmap.png", "compare"):
        missing = facilitator.get(f"/facilitator/demo-days/999999/{page}")
        assert missing.status_code == 404 and "999999" in missing.text, page
        assert missing.headers["content-type"].startswith("text/html"), page
    missing = facilitator.post("/facilitator/demo-days/999999/revisions", data={"csrf_token": token})
    assert missing.status_code == 404 and "999999" in missing.text
    assert facilitator.get("/facilitator/demo-days/runs/999999").status_code == 404
    assert facilitator.get("/facilitator/demo-days/runs/nothing-here").status_code == 422
    assert facilitator.get("/facilitator/engagements/999999").status_code == 404
    response = facilitator.post(
        "/facilitator/engagements/999999/moves", data={"csrf_token": token, "stage": "met", "version": "1"}
    )
    assert response.status_code == 404


def test_plan_lock_remove_compare_print_and_export(facilitator: TestClient, loaded_app: FastAPI) -> None:
    plan_url = _plan(facilitator)
    plan_id = int(plan_url.rsplit("/", 1)[-1])
    page = facilitator.get(plan_url).text
    assert 'id="schedule"' in page and "Greedy, ignoring fairness" in page
    pairs = re.findall(r'name="lock" value="(\d+:\d+)"', page)
    assert len(pairs) >= 2
    locked, removed = pairs[0], pairs[1]
    # Ticking both boxes of one pair is refused in words, and nothing is revised.
    token = csrf(facilitator, plan_url)
    response = facilitator.post(
        f"{plan_url}/revisions", data={"csrf_token": token, "lock": [locked], "remove": [locked]}
    )
    assert "cannot be both locked and removed" in response.text
    response = facilitator.post(
        f"{plan_url}/revisions",
        data={"csrf_token": token, "lock": [locked], "remove": [removed], "note": "Vestas asked for it"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert _wait(facilitator, response.headers["location"]) == plan_url
    with unit_of_work(loaded_app.state.session_factory) as session:
        plan = pairing.plan_read(session, pairing.get_plan(session, plan_id=plan_id))
    assert plan.revision == 2
    kept = {f"{a.company_id}:{a.provider_id}": a.locked for a in plan.assignments}
    assert kept[locked] is True
    assert removed not in kept
    page = facilitator.get(plan_url).text
    assert "Revision 2" in page and "locked" in page

    compare = facilitator.get(f"{plan_url}/compare?from=1&to=2")
    assert compare.status_code == 200 and "Revision 1 → revision 2" in compare.text
    assert facilitator.get(f"{plan_url}/compare?from=one").status_code == 422
    assert facilitator.get(f"{plan_url}/compare?from=1&to=9").status_code == 404

    printed = facilitator.get(f"{plan_url}/export.html")
    assert printed.status_code == 200 and "Technology providers" in printed.text and "SMEs" in printed.text
    assert "style-src 'sha256-" in printed.headers["content-security-policy"]
    csv = facilitator.get(f"{plan_url}/export.csv")
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.count("\n") >= len(plan.assignments)
    xlsx = facilitator.get(f"{plan_url}/export.xlsx")
    assert xlsx.content[:2] == b"PK"
    png = facilitator.get(f"{plan_url}/heatmap.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"


def test_move_an_engagement_on_the_board(facilitator: TestClient, loaded_app: FastAPI) -> None:
    plan_url = _plan(facilitator)
    token = csrf(facilitator, plan_url)
    recorded = facilitator.post(f"{plan_url}/engagements", data={"csrf_token": token, "stage": "introduced"})
    assert "engagements recorded as introduced" in recorded.text
    again = facilitator.post(f"{plan_url}/engagements", data={"csrf_token": token, "stage": "introduced"})
    assert "0 engagements recorded" in again.text
    with unit_of_work(loaded_app.state.session_factory) as session:
        engagement = session.scalars(select(Engagement).order_by(Engagement.id)).first()
        assert engagement is not None
        engagement_id, version = engagement.id, engagement.version
    board = facilitator.get("/facilitator/engagements").text
    assert 'id="column-introduced"' in board and "→ Met" in board
    here = f"/facilitator/engagements/{engagement_id}"
    moved = facilitator.post(
        f"{here}/moves", data={"csrf_token": token, "stage": "met", "version": str(version), "back": "board"}
    )
    assert moved.status_code == 200 and "now met" in moved.text
    # A stale version and a decline without a reason are refused in words.
    stale = facilitator.post(f"{here}/moves", data={"csrf_token": token, "stage": "pilot", "version": str(version)})
    assert "flash-error" in stale.text
    declined = facilitator.post(
        f"{here}/moves", data={"csrf_token": token, "stage": "declined", "version": str(version + 1)}
    )
    assert "needs a reason" in declined.text
    facilitator.post(
        here,
        data={"csrf_token": token, "version": str(version + 1), "notes": "Call in May", "next_action_on": "2027-05-01"},
    )
    detail = facilitator.get(here).text
    assert "Call in May" in detail and "2027-05-01" in detail and "moved introduced → met" in detail
    bad_date = facilitator.post(here, data={"csrf_token": token, "version": "2", "next_action_on": "May"})
    assert "is not a date" in bad_date.text


def test_the_training_plan_is_kept_on_the_engagement_page(facilitator: TestClient, loaded_app: FastAPI) -> None:
    plan_url = _plan(facilitator)
    token = csrf(facilitator, plan_url)
    facilitator.post(f"{plan_url}/engagements", data={"csrf_token": token, "stage": "introduced"})
    with unit_of_work(loaded_app.state.session_factory) as session:
        engagement = session.scalars(select(Engagement).order_by(Engagement.id)).first()
        assert engagement is not None
        engagement_id, version = engagement.id, engagement.version
    here = f"/facilitator/engagements/{engagement_id}"
    assert 'id="training-form"' in facilitator.get(here).text
    rows = {
        "csrf_token": token,
        "version": str(version),
        "competence": ["cobot programming", "", "CNC setup"],
        "status": ["planned", "needed", "done"],
        "planned_on": ["2030-02-01", "", ""],
        "training_note": ["two days at the provider", "", ""],
    }
    saved = facilitator.post(f"{here}/training", data=rows)
    assert saved.status_code == 200 and "Training plan saved." in saved.text
    with unit_of_work(loaded_app.state.session_factory) as session:
        stored = session.get(Engagement, engagement_id)
        assert stored is not None
        assert [(t["competence"], t["status"], t["planned_on"]) for t in stored.training] == [
            ("cobot programming", "planned", "2030-02-01"),
            ("CNC setup", "done", None),
        ]
        assert stored.version == version + 1
    page = facilitator.get(here).text
    assert 'value="cobot programming"' in page and "two days at the provider" in page and "updated training" in page
    # A stale version, a day that is not a date and an unknown status are refused in words; nothing changes.
    stale = facilitator.post(f"{here}/training", data=rows)
    assert "flash-error" in stale.text
    bad = dict(rows, version=str(version + 1), planned_on=["soon", "", ""], status=["planned", "needed", "maybe"])
    refused = facilitator.post(f"{here}/training", data=bad).text
    assert "is not a date" in refused and "where the training for “CNC setup” stands" in refused
    twice = dict(rows, version=str(version + 1), competence=["cobot programming", "", "Cobot Programming"])
    assert "is in the plan twice" in facilitator.post(f"{here}/training", data=twice).text
    with unit_of_work(loaded_app.state.session_factory) as session:
        stored = session.get(Engagement, engagement_id)
        assert stored is not None and stored.version == version + 1 and len(stored.training) == 2


def test_dashboard_plots_and_report(facilitator: TestClient) -> None:
    page = facilitator.get("/facilitator/programme")
    assert page.status_code == 200 and 'id="funnel"' in page.text
    for name in re.findall(r"/facilitator/programme/plots/([\w-]+)\.png", page.text):
        png = facilitator.get(f"/facilitator/programme/plots/{name}.png")
        assert png.content[:4] == b"\x89PNG", name
    assert facilitator.get("/facilitator/programme/plots/nope.png").status_code in (404, 422)
    assert "Adoptions" in facilitator.get("/facilitator/programme/report").text
    assert facilitator.get("/facilitator/programme/report.xlsx").content[:2] == b"PK"


def test_the_report_is_for_the_period_chosen(facilitator: TestClient) -> None:
    page = facilitator.get("/facilitator/programme/report", params={"from": "2026-01-01", "to": "2026-06-30"})
    assert page.status_code == 200
    assert "from 2026-01-01 to 2026-06-30" in page.text
    # The spreadsheet link carries the same period, and its file is named after it.
    assert 'report.xlsx?from=2026-01-01&amp;to=2026-06-30"' in page.text
    workbook = facilitator.get("/facilitator/programme/report.xlsx", params={"from": "2026-01-01", "to": "2026-06-30"})
    assert workbook.content[:2] == b"PK" and "2026-01-01_2026-06-30" in workbook.headers["content-disposition"]
    # A period that ends before it starts, or a day that is not a date, gets a page that says so.
    backwards = facilitator.get("/facilitator/programme/report", params={"from": "2026-06-30", "to": "2026-01-01"})
    assert backwards.status_code == 422 and "ends before it starts" in backwards.text
    assert facilitator.get("/facilitator/programme/report", params={"from": "June"}).status_code == 422


def test_the_dashboard_is_for_the_period_chosen(facilitator: TestClient) -> None:
    everything = facilitator.get("/facilitator/programme").text
    assert "From the beginning to now" in everything
    assert re.search(r"<dt>Needs</dt><dd>[1-9]", everything)  # the catalogue's needs
    # A period in the future: no need or match in it; the plots and the report links carry it.
    later = facilitator.get("/facilitator/programme", params={"from": "2099-01-01", "to": "2099-12-31"})
    assert later.status_code == 200 and "From 2099-01-01 to 2099-12-31" in later.text
    assert "<dt>Needs</dt><dd>0 " in later.text and '<th scope="row">proposed</th><td>0</td>' in later.text
    assert "report?from=2099-01-01&amp;to=2099-12-31" in later.text
    plots = re.findall(r'/facilitator/programme/plots/([\w-]+)\.png\?from=2099-01-01&amp;to=2099-12-31"', later.text)
    assert plots
    png = facilitator.get(f"/facilitator/programme/plots/{plots[0]}.png", params={"from": "2099-01-01"})
    assert png.content[:4] == b"\x89PNG"
    backwards = facilitator.get("/facilitator/programme", params={"from": "2026-06-30", "to": "2026-01-01"})
    assert backwards.status_code == 422 and "ends before it starts" in backwards.text


def test_the_day_has_a_date_and_a_slot_length(facilitator: TestClient) -> None:
    url = _plan(facilitator, event_date="2027-03-18", slot_minutes="20")
    page = facilitator.get(url).text
    assert "Thursday 18 March 2027" in page and "20-minute rounds" in page
    plan_id = int(url.rsplit("/", 1)[-1])
    printed = facilitator.get(f"/facilitator/demo-days/{plan_id}/export.html").text
    assert "Thursday 18 March 2027" in printed and "20-minute rounds" in printed
    # Not a date, or a slot too short to demonstrate anything: the form says so and keeps the choices.
    page = facilitator.get("/facilitator/demo-days").text
    refused = facilitator.post(
        "/facilitator/demo-days",
        data={
            "csrf_token": csrf(facilitator, "/facilitator/demo-days"),
            "name": "Autumn day",
            "event_date": "next Thursday",
            "slot_minutes": "2",
            "max_per_company": "1",
            "default_capacity": "1",
            "company": _form_ids(page, "company")[:2],
            "provider": _form_ids(page, "provider")[:1],
        },
    )
    assert refused.status_code == 422
    assert "is not a date" in refused.text and "Minutes per demonstration" in refused.text
    assert 'value="Autumn day"' in refused.text
