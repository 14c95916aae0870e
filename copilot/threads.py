"""Native thread pools under control. OpenBLAS and OpenMP start one spinning thread per core; on a busy 2-core
laptop that made one query encoding 18x slower (824 ms instead of 45 ms). Our heavy maths runs on one compute
thread at a time, so one native thread each is both the fastest and the kindest setting.

`cap_native_threads()` runs when the `copilot` package is imported, before anything of ours loads NumPy; a
value the user set in the environment wins. If NumPy was loaded first (copilot used as a library), the pools
are limited with threadpoolctl when the encoder loads.
"""

from __future__ import annotations

import os
import sys

NATIVE_THREAD_VARS = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
_late = False  # NumPy was imported before we could set the environment


def cap_native_threads(limit: int = 1) -> None:
    global _late
    _late = "numpy" in sys.modules and "OPENBLAS_NUM_THREADS" not in os.environ
    for var in NATIVE_THREAD_VARS:
        os.environ.setdefault(var, str(limit))


def limit_loaded_pools(limit: int = 1) -> None:
    """Limit BLAS/OpenMP pools already started (only needed when NumPy was imported before copilot)."""
    if not _late:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=limit)
