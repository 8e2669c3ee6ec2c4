"""A Ray session for a batch job and the actor-pool pipeline it runs; Ray is imported only here, when a job runs.

`local` starts a private cluster on the loopback interface for the job and stops it afterwards;
`HOST:PORT` joins a running cluster (started with `ray start --head`, see docs/batch.md) as its driver.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

Batch = dict[str, np.ndarray]


class RayUnavailable(RuntimeError):
    """Ray is not installed (the `batch` extra) or the cluster cannot be reached."""


@contextmanager
def ray_session(address: str, *, cpus: int | None = None) -> Iterator[dict[str, Any]]:
    """Ray initialised for one job, always shut down; yields the cluster's resources."""
    # On a machine whose Ray would otherwise look for a multi-node set-up, stay on this host (loopback).
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable('Ray is not installed: pip install -e ".[batch]"') from exc
    try:
        if address == "local":
            ray.init(
                address="local",
                num_cpus=cpus or os.cpu_count() or 1,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        ray.shutdown()
        raise RayUnavailable(f"cannot start or reach the Ray cluster at {address!r}: {exc}") from exc
    try:
        context = ray.data.DataContext.get_current()
        # The command draws its own progress and prints its own summary.
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        context.enable_auto_log_stats = False
        context.execution_options.verbose_progress = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        yield dict(ray.cluster_resources())
    finally:
        ray.shutdown()


def actor_pool_map(
    columns: Mapping[str, Any],
    worker: type,
    *,
    worker_options: Mapping[str, Any],
    actors: int,
    cpus_per_actor: float,
    batch_size: int,
) -> Iterator[Batch]:
    """`worker(**worker_options)` in `actors` actors over the rows of `columns`; yields output blocks as they
    come (each the output of one `worker` call, so rows a call answers together arrive together)."""
    import pyarrow as pa
    import ray

    table = pa.table(dict(columns))
    if not table.num_rows:
        return
    # Small inputs arrive as one block, which one actor would take alone: cut them so every actor works.
    blocks = max(1, min(table.num_rows // max(1, batch_size), 4 * actors * 8)) if table.num_rows > batch_size else 1
    dataset = ray.data.from_arrow(table).repartition(max(blocks, min(actors, table.num_rows)))
    mapped = dataset.map_batches(
        worker,
        fn_constructor_kwargs=dict(worker_options),
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus_per_actor,
    )
    yield from mapped.iter_batches(batch_size=None, batch_format="numpy")
