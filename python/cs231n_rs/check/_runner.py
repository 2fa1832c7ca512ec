"""The parent side: one worker process per module of the student's package, results collected
line by line, a timeout backstop per function, and a fresh worker for the remaining functions
when one crashes or hangs. Each worker runs in a temporary working folder of its own (removed
afterwards: files your code writes do not land in your assignment folder) and under a memory limit."""

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from ._worker import MARK, boot_code

#: Seconds a function may take in all (cases, numeric gradients, timing) beyond its time caps;
#: the environment variable overrides it (the tests use a short one).
BACKSTOP_S = 120.0
BACKSTOP_ENV = "CS231N_RS_CHECK_BACKSTOP_S"


def _reader(stream, q):
    for line in stream:
        if line.startswith(MARK):
            try:
                q.put(json.loads(line[len(MARK):]))
            except ValueError:  # pragma: no cover - a torn line
                pass
    q.put(None)


def _tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            lines = [ln.rstrip() for ln in f.readlines() if ln.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])[-400:]


def _error(name, message):
    return {"function": name, "status": "error", "max_rel_error": None, "case": None, "hint": None,
            "speedup": None, "message": message}


def run_module(folder, module, names, cap, speed, case_cap, on_result, memory_gb=0.0):
    """Checks ``names`` (spec names of ``module``) in workers; calls ``on_result(dict)`` for each.
    ``memory_gb`` > 0 limits the data each worker may allocate."""
    import cs231n_rs

    root = os.path.dirname(os.path.dirname(os.path.abspath(cs231n_rs.__file__)))
    remaining = list(names)
    backstop = float(os.environ.get(BACKSTOP_ENV, 0)) or BACKSTOP_S + 2 * case_cap + (4 * cap if speed else 0)
    while remaining:
        job = dict(folder=folder, module=module, functions=remaining, cap=cap, speed=speed, case_cap=case_cap,
                   memory_bytes=int(memory_gb * 2**30) if memory_gb and memory_gb > 0 else 0)
        workdir = tempfile.mkdtemp(prefix="cs231n-rs-check-")
        with tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as log:
            log_path = log.name
        env = dict(os.environ)
        env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        env["MPLBACKEND"] = "Agg"  # a student's plt.show() at import must not open a window
        with open(log_path, "w") as err:
            proc = subprocess.Popen([sys.executable, "-c", boot_code(root), json.dumps(job)], cwd=workdir,
                                    stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True, env=env)
        q = queue.Queue()
        threading.Thread(target=_reader, args=(proc.stdout, q), daemon=True).start()
        current = None
        deadline = time.monotonic() + backstop
        finished = False
        try:
            while True:
                try:
                    event = q.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    proc.kill()
                    if current is not None:
                        on_result(_error(current, "no result after %d s: killed (the time cap could not "
                                                  "interrupt it)" % backstop))
                        remaining.remove(current)
                        current = None
                        finished = True  # the others get a fresh worker
                    else:
                        for n in remaining:
                            on_result(_error(n, "the module's import did not finish in %d s" % backstop))
                        remaining = []
                    break
                if event is None:  # the worker's stdout closed
                    break
                kind = event.get("event")
                if kind == "module_error":
                    for n in remaining:
                        on_result(_error(n, "the module cannot be imported: " + event["error"]))
                    remaining = []
                    finished = True
                elif kind == "start":
                    current = event["function"]
                    deadline = time.monotonic() + backstop
                elif kind == "result":
                    on_result(event["result"])
                    if event["result"]["function"] in remaining:
                        remaining.remove(event["result"]["function"])
                    current = None
                elif kind == "done":
                    finished = True
        finally:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if remaining and not finished:
            why = "the check process died (exit status %s)" % proc.returncode
            tail = _tail(log_path)
            if tail:
                why += ": " + tail
            if current is not None:
                on_result(_error(current, why))
                remaining.remove(current)
            elif remaining:
                for n in remaining:
                    on_result(_error(n, why))
                remaining = []
        try:
            os.unlink(log_path)
        except OSError:
            pass
        shutil.rmtree(workdir, ignore_errors=True)
