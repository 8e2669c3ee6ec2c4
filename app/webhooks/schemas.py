"""Request and response bodies of the webhook routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from app.core.schemas import Input, Output
from app.models import DeliveryStatus

EventName = Literal["need.matched", "match.approved", "match.rejected"]


def _unique(events: list[str]) -> list[str]:
    return sorted(set(events))


Events = Annotated[list[EventName], Field(min_length=1), AfterValidator(_unique)]
Url = Annotated[str, Field(min_length=1, max_length=2000, examples=["https://hooks.example.org/techmatch"])]


class WebhookCreate(Input):
    url: Url
    events: Events
    description: str = Field("", max_length=300)
    active: bool = True


class WebhookUpdate(Input):
    url: Url | None = None
    events: Events | None = None
    description: str | None = Field(None, max_length=300)
    active: bool | None = None


class WebhookRead(Output):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="signs every delivery; shown once, at creation")


class DeliveryRead(Output):
    id: int
    subscription_id: int
    event: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    response_code: int | None
    error: str | None
    redelivery_of: int | None
    created_at: datetime
