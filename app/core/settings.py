"""Typed settings read from TECHMATCH_* environment variables and a .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from matching.encoders.names import GLOSSARY_MODEL, Precision
from matching.ranking.bands import NOTHING_FITS_THRESHOLD

MAX_K = 50
# The packaged demo catalogue, beside the app package in a checkout; its graded labels also calibrate scores.
DEFAULT_DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
MIN_SECRET_CHARS = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TECHMATCH_", env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field("sqlite:///var/techmatch.db", min_length=1)
    data_dir: Path = Path("var")
    # MiniLM; a Danish need is read through its English gloss. Chosen by measurement over the routed
    # MiniLM + multilingual-e5-small setting: same quality, a tenth of the ingest cost
    # (README "Danish and other languages").
    model: str = Field(GLOSSARY_MODEL, min_length=1)
    max_text_chars: int = Field(20_000, ge=100)
    max_page_size: int = Field(100, ge=1)
    default_k: int = Field(10, ge=1, le=MAX_K)
    show_unreviewed: bool = False
    encode_batch_size: int = Field(64, ge=1)
    # auto: bfloat16 where the CPU has AMX (about 3x the batched query throughput), else float32.
    encoder_precision: Precision = "auto"
    # Queries from concurrent requests are encoded together (README "Speed and scale"): a batch
    # closes at micro_batch_max texts or micro_batch_wait_ms after its first text.
    micro_batching: bool = True
    micro_batch_max: int = Field(64, ge=1)
    micro_batch_wait_ms: float = Field(3.0, ge=0, le=100)
    # Model threads of the micro-batching worker (0: PyTorch's default, one per core).
    micro_batch_threads: int = Field(1, ge=0)
    demo_dir: Path | None = None
    # Below this probability that an offering solves the need, nothing is presented as a match: lists
    # say "nothing fits", the review queue and leads leave such pairs out (docs: "Scores and nothing fits").
    match_threshold: float = Field(NOTHING_FITS_THRESHOLD, ge=0.0, lt=1.0)
    # Bulk import limits (README "Bulk import and export"): rows per file and bytes per upload.
    import_max_rows: int = Field(10_000, ge=1)
    import_max_bytes: int = Field(10_485_760, ge=1024)
    # Serve /healthz (and a red /readyz) while the model and index load, instead of accepting no
    # connection until they have (README "Reliability").
    background_start: bool = False
    # Integration limits (README "Limits"). Rate limit per API key, in the `limits` notation;
    # the storage URI names a shared store (redis://host:port) when several processes serve
    # (docs "Deployment"); memory:// counts in each process.
    rate_limit: str = Field("120/minute", min_length=1, validate_default=False)
    rate_limit_storage: str = Field("memory://", min_length=1)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    # Request head limits, enforced by the server (h11's buffer) and again by the app (431 problem).
    max_header_bytes: int = Field(16_384, ge=1024)
    max_header_count: int = Field(100, ge=10)
    # Imports, exports, plan solving, learning and rebuilds: how many run at once, how many may wait
    # for a turn (503 with Retry-After past that); README "Reliability".
    blocking_work_threads: int = Field(2, ge=1)
    blocking_work_queue: int = Field(16, ge=0)
    # Browser origins allowed to call the API, comma-separated; empty means no CORS headers.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Providers and technologies are visible to every tenant (writes stay with their tenant).
    share_catalogue: bool = True
    # Where the engine's vector index lives (docs: "Vector backends"): faiss, in each process and saved
    # under data_dir; or pgvector, in PostgreSQL beside the rows, written in their transactions.
    vector_backend: Literal["faiss", "pgvector"] = "faiss"

    # Sign-in to the web pages (docs "People, roles and sign-in"). Without a secret key, a random one is
    # generated once per data dir; production refuses to start without a real one, or with cookies
    # that would travel over plain HTTP.
    production: bool = False
    secret_key: SecretStr | None = None
    session_max_age: int = Field(8 * 3600, ge=60)
    # None: follows `production` (Secure cookies there, plain ones on a development machine).
    secure_cookies: bool | None = None
    session_same_site: Literal["lax", "strict"] = "lax"
    # Where the site is reached, for links sent by e-mail or printed by the CLI (invitations);
    # the pages themselves use the address the browser asked for when this is unset.
    public_url: str | None = None
    invitation_days: int = Field(7, ge=1, le=90)
    # Sign-in guessing (docs "People, roles and sign-in"): failures allowed per account and per
    # client address before each further one locks the account or address for a time that doubles,
    # from signin_backoff_seconds up to signin_backoff_max_seconds; failures are forgotten
    # signin_failure_window_seconds after the first (and an account's at its next successful sign-in).
    signin_free_failures: int = Field(5, ge=1)
    signin_free_failures_per_address: int = Field(20, ge=1)
    signin_backoff_seconds: int = Field(2, ge=1)
    signin_backoff_max_seconds: int = Field(900, ge=1)
    signin_failure_window_seconds: int = Field(86_400, ge=60)
    # The widget (docs "A widget for cluster websites"): submissions per publishable key (its own limit,
    # when it has one, replaces the first) and per client address; a form sent sooner than the minimum
    # after it was shown is a robot's, one older than the maximum must be reloaded.
    widget_rate_limit: str = Field("60/hour", min_length=1)
    widget_client_rate_limit: str = Field("5/hour", min_length=1)
    widget_min_fill_seconds: int = Field(3, ge=0)
    widget_max_fill_seconds: int = Field(7_200, ge=60)
    # argon2id takes 64 MiB and a core for tens of milliseconds: at most this many at once, this many
    # more may wait (503 with Retry-After past that).
    password_hash_slots: int = Field(2, ge=1)
    password_hash_queue: int = Field(32, ge=0)
    # Invitation e-mails: sent only when smtp_host is set (smtplib; "starttls", "tls" or "none").
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field("techmatch@localhost", min_length=3)
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=120)

    # Webhooks (README "Webhooks"). Only URLs whose host[:port] is listed here are registered or
    # called, comma-separated, e.g. "hooks.example.org,127.0.0.1:9000"; empty allows none.
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The delivery worker runs in the API process; switch it off where another process delivers.
    webhook_worker: bool = True
    webhook_max_attempts: int = Field(6, ge=1, le=30)
    # Retry n waits webhook_backoff_seconds * 2**(n-1), at most webhook_backoff_max_seconds.
    webhook_backoff_seconds: float = Field(30.0, gt=0)
    webhook_backoff_max_seconds: float = Field(3600.0, gt=0)
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120)
    webhook_poll_seconds: float = Field(1.0, gt=0, le=60)

    # Several processes, one database (docs: "Deployment"). Each serving process follows the change log:
    # woken by PostgreSQL's notifications, and in any case every follow_poll_seconds (the only way on
    # SQLite). /readyz turns red once a process has been behind for longer than follow_max_lag_seconds.
    follow_poll_seconds: float = Field(0.5, gt=0, le=60)
    follow_max_lag_seconds: float = Field(30.0, gt=0)
    # Changes older than this are pruned; a process that was away longer does one full sync.
    change_log_retention_hours: float = Field(168.0, gt=0)
    # Long jobs (plan solving, learning) queued in the jobs table; every serving process claims them
    # unless job_worker is off. A running job whose worker sent no heartbeat for job_lease_seconds is
    # claimed again, at most job_max_attempts times in all.
    job_worker: bool = True
    job_poll_seconds: float = Field(1.0, gt=0, le=60)
    job_lease_seconds: float = Field(60.0, ge=5)
    job_max_attempts: int = Field(3, ge=1, le=10)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def labels_dir(self) -> Path:
        """The demo catalogue: loaded into an empty database by `techmatch serve`; its labels calibrate scores."""
        return self.demo_dir or DEFAULT_DEMO_DIR

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        # Host names compare case-insensitively; entries are exact host or host:port, no wildcards.
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(entry).strip().lower() for entry in value if str(entry).strip()]
        return value

    @field_validator("rate_limit", "widget_rate_limit", "widget_client_rate_limit")
    @classmethod
    def _rate_limit_notation(cls, value: str) -> str:
        # Refuse "120 per minte" at start-up rather than at the first request.
        try:
            from limits import parse_many  # imported when a rate limit is set: it costs start-up time

            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit such as '120/minute': {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _real_secret_in_production(self) -> Self:
        if not self.production:
            return self
        secret = "" if self.secret_key is None else self.secret_key.get_secret_value()
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(
                f"production needs TECHMATCH_SECRET_KEY: a random value of at least {MIN_SECRET_CHARS} characters"
            )
        return self

    @property
    def cookies_secure(self) -> bool:
        """Whether the session cookie is sent only over HTTPS (and named with the __Host- prefix)."""
        return self.production if self.secure_cookies is None else self.secure_cookies

    @model_validator(mode="after")
    def _secure_cookies_in_production(self) -> Self:
        if self.production and self.secure_cookies is False:
            raise ValueError(
                "production serves its session cookie only over HTTPS: unset TECHMATCH_SECURE_COOKIES or set it true"
            )
        return self

    @model_validator(mode="after")
    def _backoff_bounds(self) -> Self:
        if self.signin_backoff_max_seconds < self.signin_backoff_seconds:
            raise ValueError("signin_backoff_max_seconds must be at least signin_backoff_seconds")
        return self

    @model_validator(mode="after")
    def _known_database(self) -> Self:
        # Fail at start-up, not at the first request, on a URL SQLAlchemy cannot parse.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(self.database_url)
        except ArgumentError as exc:
            raise ValueError(f"database_url is not a database URL: {exc}") from exc
        if self.vector_backend == "pgvector" and url.get_backend_name() != "postgresql":
            raise ValueError("vector_backend pgvector needs a PostgreSQL database_url")
        return self
