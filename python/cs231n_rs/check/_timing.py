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


#: Keep alternating the two sides while their total stays under this many seconds.
REPEAT_BUDGET_S = 1.0
MAX_REPEATS = 25


def _once(fn, cap):
    start = time.perf_counter()
    call_capped(fn, cap)
    return time.perf_counter() - start


def compare_times(student_call, our_call, cap):
    """Best wall times of the student's call (capped) and ours, run alternately, back to back.

    No pause between the runs: on a busy machine a pause lets OpenBLAS's threads fall asleep and the
    next BLAS call pays tens of milliseconds to wake them; the minimum over the alternating repeats
    is what is compared. The first run of each side is a warm-up (the student's is kept when it is
    the only one that fits the cap). Returns ``(student_s, ours_s, capped)``; when capped,
    ``student_s`` is the cap (a lower bound)."""
    gc.collect()
    try:
        first = _once(student_call, cap)
    except TimeCap:
        _once(our_call, None)
        return float(cap), min(_once(our_call, None) for _ in range(2)), True
    warm = _once(our_call, None)
    theirs, ours = [], []
    while len(ours) < MAX_REPEATS and sum(theirs) + sum(ours) + first + warm <= REPEAT_BUDGET_S:
        try:
            theirs.append(_once(student_call, cap))
        except TimeCap:  # a slower repeat: the first run stands
            break
        ours.append(_once(our_call, None))
    if not ours:
        ours.append(_once(our_call, None))
    return min(theirs or [first]), min(ours), False
