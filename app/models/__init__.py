"""The database models, one module per feature; every model is importable from here."""

from app.models.base import DEFAULT_TENANT, Base, Timestamped, UTCDateTime, utcnow
from app.models.catalogue import CatalogueState, Company, Embedding, Need, Provider, Technology
from app.models.jobs import Job, JobStatus
from app.models.keys import ApiKey
from app.models.learning import RankingModel
from app.models.matches import Match, MatchStatus
from app.models.pairing import PairingPlan, PairingRevision
from app.models.people import Curator
from app.models.replication import CatalogueChange, ChangeKind
from app.models.review import ReviewDecision
from app.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookSubscription

__all__ = [
    "DEFAULT_TENANT",
    "ApiKey",
    "Base",
    "CatalogueChange",
    "CatalogueState",
    "ChangeKind",
    "Company",
    "Curator",
    "DeliveryStatus",
    "Embedding",
    "Job",
    "JobStatus",
    "Match",
    "MatchStatus",
    "Need",
    "PairingPlan",
    "PairingRevision",
    "Provider",
    "RankingModel",
    "ReviewDecision",
    "Technology",
    "Timestamped",
    "UTCDateTime",
    "WebhookDelivery",
    "WebhookSubscription",
    "utcnow",
]
