"""Dask clients for the runs that scale out (sweeps, trial replicates)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from ketasim.errors import KetasimError

#: Seconds to wait for a scheduler given by address.
CONNECT_TIMEOUT_S = 10


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int | None = None) -> Iterator:
    """A Dask client of the scheduler at ``scheduler`` (e.g. ``tcp://host:8786``), or of a new
    LocalCluster of ``workers`` single-threaded processes (default: one per core)."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise KetasimError(f"--scheduler: cannot connect to {scheduler}: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                               ) from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                      processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client
