"""A message said when shown: the API's detail is the English sentence, a page says it in its reader's language,
with the words inside it (a refusal, a stage) said in that language too."""

from __future__ import annotations

from functools import partial

from app.core.errors import Conflict, NotFound
from app.models import EngagementStage
from app.web.i18n import N_, Said, gettext

DANISH = partial(gettext, "da")


def test_an_error_made_saying_a_message_keeps_the_english_detail_and_says_it_in_danish() -> None:
    refusal = Said(N_("the engagement is already %(stage)s"), {"stage": Said(EngagementStage.met)})
    error = Conflict.saying(N_("engagement %(id)s: %(refusal)s"), id=7, refusal=refusal)
    assert error.status == 409 and str(error) == error.detail
    assert error.detail == "engagement 7: the engagement is already met"
    assert error.said is not None and error.said.say(DANISH) == "forløb 7: forløbet er allerede mødt"


def test_a_message_without_values_is_said_as_it_is_even_with_a_percent_sign() -> None:
    # A schema's own words (not in the catalogue) pass through untouched; no %-formatting is tried on them.
    assert Said("must be 100% or less").say(DANISH) == "must be 100% or less"
    assert NotFound("no such thing").said is None
