"""Response bodies of the replication status."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.replication.service import ReplicationStatus


class LagRead(BaseModel):
    versions: int = Field(description="changes committed to the database that this process has not applied yet")
    seconds: float = Field(description="how long this process has been behind (0 when it is not)")


class ReplicationRead(BaseModel):
    process: str = Field(description="the process that answered: host name and process id")
    applied_version: int = Field(description="the catalogue version this process's index reflects")
    database_version: int = Field(description="the database's catalogue version")
    lag: LagRead
    listening: bool = Field(description="woken by PostgreSQL notifications (else it polls only)")
    applied_changes: int = Field(description="changes applied since this process started")
    full_syncs: int = Field(description="full rebuilds from the database since start (a pruned log, a resync)")
    lag_p50_ms: float | None = Field(
        description="median time from a change's commit to its application here, over the latest 1,000"
    )
    lag_max_ms: float | None = Field(description="the longest of those")
    index_digest: str = Field(
        description=(
            "a digest of every record in the index, equal across processes that hold the same catalogue "
            "(and to the database's once they have caught up); it tells nothing of any tenant's rows"
        )
    )

    @classmethod
    def of(cls, status: ReplicationStatus) -> ReplicationRead:
        return cls(
            process=status.process,
            applied_version=status.applied_version,
            database_version=status.database_version,
            lag=LagRead(versions=status.lag.versions, seconds=status.lag.seconds),
            listening=status.listening,
            applied_changes=status.applied_changes,
            full_syncs=status.full_syncs,
            lag_p50_ms=status.lag_p50_ms,
            lag_max_ms=status.lag_max_ms,
            index_digest=status.index_digest,
        )
