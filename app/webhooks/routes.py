"""Routes for a tenant's webhook subscriptions and their delivery log."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response, status

from app.core.auth import AdminDep
from app.core.deps import PageDep, SessionDep, SettingsDep
from app.core.paging import page_of
from app.core.schemas import Page
from app.webhooks import service as webhooks
from app.webhooks.schemas import DeliveryRead, WebhookCreate, WebhookCreated, WebhookRead, WebhookUpdate

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.get("")
def list_webhooks(principal: AdminDep, session: SessionDep, page: PageDep) -> Page[WebhookRead]:
    rows, total = webhooks.list_subscriptions(session, tenant=principal.tenant, limit=page.limit, offset=page.offset)
    return page_of(WebhookRead, rows, total, page)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(
    principal: AdminDep,
    body: WebhookCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> WebhookCreated:
    """Register a URL for events; the response carries the signing secret, which is not shown again."""
    subscription = webhooks.create_subscription(session, tenant=principal.tenant, data=body, settings=settings)
    response.headers["Location"] = request.app.url_path_for("get_webhook", webhook_id=subscription.id)
    return WebhookCreated.model_validate(subscription)


@router.get("/{webhook_id}")
def get_webhook(principal: AdminDep, webhook_id: int, session: SessionDep) -> WebhookRead:
    return WebhookRead.model_validate(
        webhooks.get_subscription(session, tenant=principal.tenant, subscription_id=webhook_id)
    )


@router.patch("/{webhook_id}")
def update_webhook(
    principal: AdminDep, webhook_id: int, body: WebhookUpdate, session: SessionDep, settings: SettingsDep
) -> WebhookRead:
    subscription = webhooks.update_subscription(
        session, tenant=principal.tenant, subscription_id=webhook_id, data=body, settings=settings
    )
    return WebhookRead.model_validate(subscription)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(principal: AdminDep, webhook_id: int, session: SessionDep) -> None:
    webhooks.delete_subscription(session, tenant=principal.tenant, subscription_id=webhook_id)


@router.get("/{webhook_id}/deliveries")
def list_deliveries(principal: AdminDep, webhook_id: int, session: SessionDep, page: PageDep) -> Page[DeliveryRead]:
    """The delivery log, newest first: status, attempts, last response code or error, next retry."""
    rows, total = webhooks.list_deliveries(
        session, tenant=principal.tenant, subscription_id=webhook_id, limit=page.limit, offset=page.offset
    )
    return page_of(DeliveryRead, rows, total, page)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    responses={409: {"description": "the webhook is inactive"}},
)
def redeliver(
    principal: AdminDep,
    webhook_id: int,
    delivery_id: int,
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
) -> DeliveryRead:
    """Send a delivery's event again, as a new delivery that is due now."""
    copy = webhooks.redeliver(session, tenant=principal.tenant, subscription_id=webhook_id, delivery_id=delivery_id)
    worker: webhooks.WebhookWorker | None = request.app.state.webhook_worker
    if worker is not None:
        # Background tasks run after the response, so after the commit: the worker finds the delivery.
        background.add_task(worker.wake)
    return DeliveryRead.model_validate(copy)
