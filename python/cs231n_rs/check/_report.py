"""The report: a table for people (colours only on a terminal, and never with NO_COLOR) and a JSON
document for machines."""

import json
import os
import sys

#: "not checked": the check needs a library this Python lacks (torch); like "not implemented", it
#: does not fail the exit status.
STATUSES = ("ok", "wrong", "not implemented", "error", "not checked")
_COLOURS = {"ok": "32", "wrong": "31;1", "not implemented": "33", "error": "35;1", "not checked": "36"}
#: The keys every entry of the JSON's "functions" has (others may follow).
REQUIRED_KEYS = ("function", "status", "max_rel_error", "case", "hint", "speedup")


def use_colour(stream):
    return hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("NO_COLOR")


def _paint(text, status, colour):
    if not colour:
        return text
    return "\033[%sm%s\033[0m" % (_COLOURS[status], text)


def format_error(err):
    return "-" if err is None else "%.1e" % err


def format_speed(r):
    if r.get("speedup") is None:
        return "-"
    ratio = r["speedup"]
    text = ("%.0f" if ratio >= 100 else "%.1f") % ratio
    return (">" if r.get("speed_capped") else "") + text + "x"


def table(results, folder, colour=False):
    """The report as text: one line per function, then the case, hint and message of failures."""
    width = max([len(r["function"]) for r in results] + [8])
    lines = ["cs231n-rs check %s" % folder, ""]
    head = "%-*s  %-15s  %13s  %11s" % (width, "function", "status", "max rel error", "yours/ours")
    lines.append(head)
    lines.append("-" * len(head))
    for r in results:
        status = "%-15s" % r["status"]
        lines.append("%-*s  %s  %13s  %11s" % (width, r["function"], _paint(status, r["status"], colour),
                                              format_error(r.get("max_rel_error")), format_speed(r)))
        pad = " " * 4
        if r["status"] in ("wrong", "error", "not checked"):
            if r.get("message"):
                lines.append(pad + r["message"])
            if r.get("case"):
                lines.append(pad + "case: " + r["case"])
        if r.get("hint"):
            lines.append(pad + "hint: " + r["hint"])
        if r.get("speed_error"):
            lines.append(pad + "speed not measured: " + r["speed_error"])
    lines.append("")
    lines.append(summary_line(results))
    if any(r.get("speedup") is not None for r in results):
        lines.append("yours/ours: your time divided by cs231n-rs's on an assignment-size input "
                     "('>' when your code hit the time cap).")
    return "\n".join(lines)


def counts(results):
    out = {s: 0 for s in STATUSES}
    for r in results:
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out


def summary_line(results):
    n = counts(results)
    line = "%d checked: %d ok, %d wrong, %d not implemented, %d error" % (
        len(results) - n["not checked"], n["ok"], n["wrong"], n["not implemented"], n["error"])
    if n["not checked"]:
        line += "; %d not checked (a library this Python lacks)" % n["not checked"]
    return line


def write_json(path, results, folder, absent, options):
    """The report as JSON: ``functions`` holds the functions with one of the four verdicts (ok,
    wrong, not implemented, error); those this Python could not check (a missing library) are listed
    apart, under ``not_checked``, with the reason, like the ``not_found`` ones."""
    checked = [r for r in results if r["status"] != "not checked"]
    skipped = [{"function": r["function"], "message": r.get("message"), "hint": r.get("hint")}
               for r in results if r["status"] == "not checked"]
    doc = {"folder": folder, "functions": [_ordered(r) for r in checked], "summary": counts(results),
           "not_checked": skipped, "not_found": absent, "options": options}
    text = json.dumps(doc, indent=2, allow_nan=False, default=str)
    if path == "-":
        sys.stdout.write(text + "\n")
        return
    with open(path, "w") as f:
        f.write(text + "\n")


def _ordered(r):
    out = {k: r.get(k) for k in REQUIRED_KEYS}
    for k, v in r.items():
        if k not in out:
            out[k] = v
    if out.get("max_rel_error") is not None and out["max_rel_error"] != out["max_rel_error"]:
        out["max_rel_error"] = None
    return out
