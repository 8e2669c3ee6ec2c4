"""Operator route: how far this process's index is behind the database, and what it holds."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.core.auth import AdminDep
from app.core.deps import SessionDep
from app.core.errors import NotReady
from app.replication.schemas import ReplicationRead
from app.replication.service import Follower

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/replication", responses={503: {"description": "this process has not started following yet"}})
def replication(principal: AdminDep, request: Request, session: SessionDep) -> ReplicationRead:
    """The answering process's place in the change log: the version its index reflects, its lag, and a digest
    of its index to compare with other processes' (behind a proxy, each request may reach another process)."""
    follower: Follower | None = request.app.state.follower
    if follower is None:
        raise NotReady("the index is not loaded yet")
    return ReplicationRead.of(follower.status(session))
