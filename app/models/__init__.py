"""The database models, one module per feature; every model is importable from here."""

from app.models.base import DEFAULT_TENANT, Base, Timestamped, UTCDateTime, utcnow
from app.models.catalogue import CatalogueState, Company, Embedding, Need, Provider, Technology
from app.models.engagements import Engagement, EngagementEvent, EngagementStage
from app.models.jobs import Job, JobStatus
from app.models.keys import ApiKey
from app.models.learning import RankingModel
from app.models.matches import Match, MatchStatus
from app.models.pairing import PairingPlan, PairingRevision
from app.models.people import STAFF_ROLES, Invitation, Person, Role, WebSession
from app.models.replication import CatalogueChange, ChangeKind
from app.models.review import MatchFeedback, ReviewDecision
from app.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookSubscription
from app.models.widget import SubmissionStatus, WidgetSubmission

__all__ = [
    "DEFAULT_TENANT",
    "STAFF_ROLES",
    "ApiKey",
    "Base",
    "CatalogueChange",
    "CatalogueState",
    "ChangeKind",
    "Company",
    "DeliveryStatus",
    "Embedding",
    "Engagement",
    "EngagementEvent",
    "EngagementStage",
    "Invitation",
    "Job",
    "JobStatus",
    "Match",
    "MatchFeedback",
    "MatchStatus",
    "Need",
    "PairingPlan",
    "PairingRevision",
    "Person",
    "Provider",
    "RankingModel",
    "ReviewDecision",
    "Role",
    "SubmissionStatus",
    "Technology",
    "Timestamped",
    "UTCDateTime",
    "WebSession",
    "WebhookDelivery",
    "WebhookSubscription",
    "WidgetSubmission",
    "utcnow",
]
