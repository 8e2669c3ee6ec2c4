"""The curator pages speak Danish to a Danish browser or a curator who chose Danish, and English otherwise."""

from __future__ import annotations

from html import unescape

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.app.review.conftest import csrf, proposed_ids, sign_in

DANISH = {"Accept-Language": "da-DK,da;q=0.9"}


def test_the_queue_and_a_match_speak_danish_to_a_danish_browser(site: TestClient, loaded_app: FastAPI) -> None:
    sign_in(site)
    first, second = proposed_ids(loaded_app)[:2]
    queue = unescape(site.get("/review", headers=DANISH).text)
    assert 'lang="da"' in queue and "Kø til gennemgang" in queue and "Godkend valgte" in queue
    assert "foreslået" in queue and "Forkert teknologikategori" in queue
    # review.js says the count and its alerts with the page's words.
    assert 'data-selected="{count} valgt"' in queue and "0 valgt" in queue
    assert 'data-no-reason="Vælg en årsag til afvisningen."' in queue
    # What the codes are stays in the URLs and form values.
    assert 'value="proposed"' in queue and "status=rejected" in queue

    match = unescape(site.get(f"/review/matches/{first}", headers=DANISH).text)
    assert "Beslutning" in match and "Godkend med denne forklaring" in match and "Historik" in match
    assert "Ingen beslutning endnu." in match and 'value="approve"' in match

    decided = site.post(
        f"/review/matches/{first}/decision",
        data={"action": "approve", "version": "0", "csrf_token": csrf(site, f"/review/matches/{first}")},
        headers=DANISH,
    )
    assert f"Match {first}: godkendt." in unescape(decided.text)
    # A refusal from the service is said in Danish on the page, its status word included; the API says English.
    again = site.post(
        f"/review/matches/{first}/decision",
        data={"action": "approve", "csrf_token": csrf(site, f"/review/matches/{first}")},
        headers=DANISH,
    )
    assert f"match {first}: matchet er allerede godkendt" in unescape(again.text)
    reopened = site.post(
        f"/review/matches/{first}/decision",
        data={"action": "approve", "version": "0", "csrf_token": csrf(site, f"/review/matches/{first}")},
        headers=DANISH,
    )
    assert f"match {first} er ændret, siden det blev vist (version 0, nu 1)" in unescape(reopened.text)
    token = csrf(site, "/review")
    bulk = site.post(
        "/review/bulk",
        data={"action": "reject", "reason_code": "duplicate", "match_id": [second], "csrf_token": token},
        headers=DANISH,
    )
    assert "1 match afvist." in unescape(bulk.text)
    decisions = unescape(site.get("/review/decisions", headers=DANISH).text)
    assert "Seneste beslutninger" in decisions and "foreslået → godkendt" in decisions
    assert "Behov fra hjemmesiden" in site.get("/review/widget", headers=DANISH).text


def test_a_curator_who_chose_danish_gets_danish_and_the_default_stays_english(site: TestClient) -> None:
    sign_in(site)
    queue = unescape(site.get("/review").text)
    assert 'lang="en"' in queue and "Review queue" in queue and "Approve selected" in queue
    assert 'data-selected="{count} selected"' in queue and "0 selected" in queue
    assert ">proposed <" in queue and "Wrong technology category" in queue
    site.post("/account/language", data={"csrf_token": csrf(site, "/review"), "language": "da", "next": "/review"})
    chosen = unescape(site.get("/review", headers={"Accept-Language": "en"}).text)
    assert 'lang="da"' in chosen and "Kø til gennemgang" in chosen
