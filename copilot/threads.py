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


def return_freed_memory() -> None:
    """Hand memory freed after a big piece of work back to the system. glibc keeps freed heap pages in its arenas
    (one per thread); after start-up at 10,000 tickets (reading and fitting the triage examples) that was ~60 MB
    of the window's resident memory. A no-op where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # musl and other C libraries have no malloc_trim
        return


BACKGROUND_NICENESS = 10  # a background thread's share of a busy core: about a tenth of a normal thread's


def lower_thread_priority(niceness: int = BACKGROUND_NICENESS) -> None:
    """Make the calling thread yield the CPU to the app's other threads (work nobody waits for, such as training
    triage folds ahead). On Linux niceness is per thread; elsewhere this does nothing. Not 19: a thread that needs
    the work now may wait one training step for this one to let go, and at 19 a busy core starves it."""
    if not sys.platform.startswith("linux"):
        return
    import threading

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except OSError:  # not allowed here (a sandbox): the work runs at normal priority
        return
