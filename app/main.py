"""The FastAPI application: `create_app()` wires settings, database, engine, routes and errors."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

import anyio
from fastapi import APIRouter, Depends, FastAPI

from app.bulk import routes as bulk
from app.catalogue import routes as catalogue
from app.core.auth import RateLimits, require_key
from app.core.database import create_db_engine, create_session_factory, unit_of_work
from app.core.http_limits import install_http_limits
from app.core.migrations import SchemaNotCurrent, check_schema
from app.core.openapi import install_docs, install_openapi, operation_id
from app.core.problems import install_error_handlers
from app.core.settings import Settings
from app.core.work import BlockingWork
from app.engagements import routes as engagements
from app.health import routes as health
from app.indexing import routes as indexing
from app.indexing.reembed import reembed
from app.indexing.service import IndexRebuilder, close_vector_backend, use_vector_backend
from app.jobs import routes as jobs_routes
from app.jobs.service import LEARN, PLAN, REVISE, WORKER_KEY, Handler, JobWorker
from app.learning import routes as learning
from app.learning.service import learn_job, load_ranking
from app.matches import routes as matches
from app.pairing import routes as pairing
from app.pairing.service import plan_job, revise_job
from app.privacy import routes as privacy
from app.programme import routes as programme
from app.replication import routes as replication
from app.replication.service import FOLLOWER_KEY, Follower, open_index
from app.review import routes as review
from app.web.install import install_web
from app.webhooks import routes as webhooks
from app.webhooks.service import WebhookWorker
from matching.encoders.base import Encoder
from matching.encoders.batching import MicroBatchingEncoder
from matching.encoders.factory import load_encoder
from matching.language.detection import preload as preload_language_detector
from matching.matcher import Matcher

logger = logging.getLogger(__name__)

# The REST API, one router per feature, in the order the OpenAPI document lists them.
API_FEATURES = (
    catalogue,
    matches,
    pairing,
    engagements,
    programme,
    indexing,
    learning,
    review,
    webhooks,
    bulk,
    privacy,
    jobs_routes,
    replication,
)
# What each kind of long job runs (app/jobs/service.py).
JOB_HANDLERS: dict[str, Handler] = {PLAN: plan_job, REVISE: revise_job, LEARN: learn_job}


def api_router() -> APIRouter:
    """Every route under /api/v1; each needs a valid key, even one that forgets to ask for a scope."""
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_key)])
    for feature in API_FEATURES:
        router.include_router(feature.router)
    return router


def _version() -> str:
    try:
        return version("techmatch")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "0.0.0"


def serving_encoder(settings: Settings) -> Encoder:
    """The configured model, behind a micro-batching queue unless `micro_batching` is off."""
    encoder = load_encoder(settings.model, precision=settings.encoder_precision)
    preload_language_detector()  # explanations are worded in the need's language
    if not settings.micro_batching:
        return encoder
    return MicroBatchingEncoder(
        encoder,
        max_batch=settings.micro_batch_max,
        max_wait_s=settings.micro_batch_wait_ms / 1000,
        threads=settings.micro_batch_threads,
    )


def create_app(settings: Settings | None = None, *, matcher: Matcher | None = None) -> FastAPI:
    """The app; `matcher` replaces the one built from `settings.model` (tests, a preloaded CLI)."""
    settings = settings or Settings()
    engine = create_db_engine(settings.database_url)
    session_factory = create_session_factory(engine)

    def start(app: FastAPI) -> None:
        # Refuse to serve a database that is not at the code's migration head (the message names the command).
        try:
            check_schema(engine)
        except SchemaNotCurrent:
            engine.dispose()  # the lifespan ends here, so stop() will not run
            raise
        ready = matcher or Matcher(serving_encoder(settings))
        use_vector_backend(ready, settings=settings, engine=engine)
        with unit_of_work(session_factory) as session:
            # Resumed from the saved index through the change log, or: a changed model re-embeds the
            # stored texts here, once, behind a progress bar on stderr. One process of a machine at a time.
            result = open_index(
                session,
                matcher=ready,
                index_dir=settings.index_dir,
                sync=lambda: (
                    reembed(
                        session, matcher=ready, index_dir=settings.index_dir, batch_size=settings.encode_batch_size
                    ).sync
                ),
            )
            load_ranking(session, matcher=ready, labels_dir=settings.labels_dir, cache_dir=settings.index_dir)
        # Sentence and query vectors encoded before the last stop: explanations and plans need not encode them again.
        ready.load_vector_caches(settings.index_dir)
        # From the version the index reflects to the database's, then every change other processes commit.
        follower = Follower(session_factory, matcher=ready, settings=settings, applied=result.catalogue_version)
        follower.catch_up()
        if follower.applied != result.catalogue_version:
            # Caught up through the log: saved, so the next start (after a crash too) resumes from here.
            follower.save()
        info: dict[str, object] = {FOLLOWER_KEY: follower}
        if settings.job_worker:
            jobs = JobWorker(
                session_factory, settings=settings, matcher=ready, handlers=JOB_HANDLERS, name=follower.process
            )
            info[WORKER_KEY] = jobs
            app.state.job_worker = jobs
        session_factory.configure(info=info)
        follower.start()
        app.state.follower = follower
        logger.info(
            "index %s: %d technologies, %d needs (catalogue version %d)%s",
            result.outcome,
            result.technologies,
            result.needs,
            result.catalogue_version,
            f"; {result.reason}" if result.reason else "",
        )
        app.state.index_sync = result
        app.state.matcher = ready
        if settings.webhook_worker:
            worker = WebhookWorker(session_factory, settings=settings)
            worker.start()
            app.state.webhook_worker = worker
        if app.state.job_worker is not None:
            app.state.job_worker.start()

    def stop(app: FastAPI) -> None:
        worker: WebhookWorker | None = app.state.webhook_worker
        if worker is not None:
            worker.stop()
            app.state.webhook_worker = None
        jobs: JobWorker | None = app.state.job_worker
        if jobs is not None:
            jobs.stop()
            app.state.job_worker = None
        follower: Follower | None = app.state.follower
        if follower is not None:
            follower.stop()
            # Stamped with the version it reflects, so a restart resumes from there through the log.
            follower.save()
            app.state.follower = None
        ready: Matcher | None = app.state.matcher
        if ready is not None:
            close_vector_backend(ready)
            if matcher is None and isinstance(ready.encoder, MicroBatchingEncoder):
                ready.encoder.close()
        app.state.matcher = None
        engine.dispose()

    def start_in_background(app: FastAPI) -> threading.Thread:
        def run() -> None:
            try:
                start(app)
            except Exception as exc:  # readiness reports it; the process stays up for /healthz
                logger.exception("start-up failed")
                app.state.start_error = f"start-up failed: {exc}"

        thread = threading.Thread(target=run, name="techmatch-start", daemon=True)
        thread.start()
        return thread

    # Started once at a time: a second start would replace the running workers on app.state, and the
    # first ones would run on, unreferenced and never stopped.
    running = threading.Lock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not running.acquire(blocking=False):
            raise RuntimeError("this app is already started; a second client of it needs no start of its own")
        try:
            # Loading the model and the index blocks; keep it off the event loop.
            starting = None
            if settings.background_start:
                starting = start_in_background(app)
            else:
                await anyio.to_thread.run_sync(start, app)
            try:
                yield
            finally:
                if starting is not None:
                    await anyio.to_thread.run_sync(starting.join)
                await anyio.to_thread.run_sync(stop, app)
        finally:
            running.release()

    app = FastAPI(
        title="techmatch",
        version=_version(),
        summary="Matches manufacturing SMEs' needs with technology providers' offerings.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # The interactive documentation comes from the package's own files (install_docs), not a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.matcher = None
    app.state.index_sync = None
    app.state.follower = None
    app.state.job_worker = None
    app.state.start_error = None
    app.state.index_rebuilder = IndexRebuilder()
    app.state.blocking_work = BlockingWork(threads=settings.blocking_work_threads, queue=settings.blocking_work_queue)
    app.state.webhook_worker = None
    app.state.rate_limits = RateLimits(settings)
    install_error_handlers(app)
    install_http_limits(app, settings)
    install_openapi(app)
    install_docs(app)
    app.include_router(api_router())
    app.include_router(health.router)
    install_web(app, settings)
    return app
