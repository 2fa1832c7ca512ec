"""Time caps and timings in the worker: a cap interrupts Python-level loops (``signal.setitimer``);
the parent's subprocess timeout is the backstop for code stuck in C."""

import gc
import signal
import time


class TimeCap(BaseException):
    """Raised inside the student's code when a time cap expires. A BaseException, so that a
    student's ``except Exception`` does not swallow it."""


def _raise(signum, frame):
    raise TimeCap()


def can_cap():
    return hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")


def call_capped(fn, seconds):
    """``fn()``, interrupted by TimeCap after ``seconds`` (no cap where setitimer is missing)."""
    if not can_cap() or seconds is None:
        return fn()
    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


#: Sleep before each timing: after a BLAS call OpenBLAS's threads busy-wait for a while.
PAUSE_S = 0.05
#: Repeat a timing while the total stays under this many seconds (best of the repeats is kept).
REPEAT_BUDGET_S = 0.5
MAX_REPEATS = 5


def best_time(fn, cap=None):
    """Best wall time of ``fn()`` over a few repeats, and whether the cap cut the first run short.

    Returns ``(seconds, capped)``; when capped, ``seconds`` is the cap (a lower bound)."""
    times = []
    total = 0.0
    while len(times) < MAX_REPEATS and (not times or total + times[0] <= REPEAT_BUDGET_S):
        gc.collect()
        time.sleep(PAUSE_S)
        start = time.perf_counter()
        try:
            call_capped(fn, cap)
        except TimeCap:
            return float(cap), True
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        total += elapsed
    return min(times), False
