"""``cs231n-rs check PATH``: grade your own cs231n package against the reference, function by
function, with gradients and speed.

PATH is the assignment folder holding your ``cs231n`` package (where the notebooks are). Every
function and class of the cs231n surface found there is imported in isolation (one process per
module: a syntax or import error in one module is reported against it and the others are still
checked), run on a set of cases (random shapes including odd sizes, float64 and float32) and
compared with :mod:`cs231n_rs.reference` using cs231n's ``rel_error``; backward passes and losses
are also checked against numeric gradients; conventions students often get wrong are probed, each
with its own hint; then your function is timed against cs231n-rs's on an assignment-size input
(with a time cap, so a two-loop implementation cannot hang the check).

Statuses: ``ok``, ``wrong``, ``not implemented`` (the starter's ``pass``/None body), ``error``
(it raises, or its module cannot be imported), ``not checked`` (the check needs a library this
Python cannot import: torch for ``net_visualization_pytorch``). The exit status is 0 only when no
implemented function is wrong or raises.

The code: :mod:`._student` (isolated import, stub detection), :mod:`._worker` and
:mod:`._run_spec` (the per-module process), :mod:`._runner` (the parent), :mod:`._specs` and the
``_specs_*`` modules (the table of functions, cases, gradient checks and hints), :mod:`._context`
and :mod:`._compare` (comparisons), :mod:`._timing`, :mod:`._report` (table and JSON).
"""

import os
import sys

#: Default time cap (seconds) on the timed call of a student's function.
DEFAULT_CAP_S = 5.0
#: Default cap (seconds) on each small correctness case.
DEFAULT_CASE_CAP_S = 30.0
#: Default memory limit (GB) of a worker process: the data it may allocate (RLIMIT_DATA), so that a
#: blow-up in your code is a MemoryError of that function, not a machine that swaps.
DEFAULT_MEMORY_GB = 8.0


def add_arguments(parser):
    parser.add_argument("path", metavar="PATH", nargs="?", help="the assignment folder that holds your cs231n package")
    parser.add_argument("--only", action="append", metavar="MODULE_OR_FUNCTION", default=[],
                        help="check only the functions whose name (e.g. layers.affine_backward) contains this "
                             "text; repeatable")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON to PATH ('-' for stdout)")
    parser.add_argument("--cap", type=float, default=DEFAULT_CAP_S, metavar="SECONDS",
                        help="time cap on each timed call of your code (default %(default)s)")
    parser.add_argument("--case-cap", type=float, default=DEFAULT_CASE_CAP_S, metavar="SECONDS",
                        help="time cap on each small correctness case (default %(default)s)")
    parser.add_argument("--memory-limit", type=float, default=DEFAULT_MEMORY_GB, metavar="GB",
                        help="memory a checking process may allocate (default %(default)s; 0: no limit)")
    parser.add_argument("--no-speed", action="store_true", help="skip the timings")
    parser.add_argument("--list", action="store_true", help="list the functions the check covers and exit")


def _package_dir(path):
    """The folder holding the ``cs231n`` package: PATH itself, or PATH's parent when PATH is the
    ``cs231n`` folder."""
    path = os.path.abspath(path)
    if os.path.isdir(os.path.join(path, "cs231n")):
        return path
    if os.path.basename(path) == "cs231n" and os.path.isdir(path):
        return os.path.dirname(path)
    return None


def _module_file(folder, module):
    base = os.path.join(folder, "cs231n", *module.split("."))
    return os.path.isfile(base + ".py")


def run(args, argv=None):
    from . import _hints, _report, _runner, _specs

    if args.list:
        for s in _specs.all_specs():
            print(s.name)
        return 0
    if args.path is None:
        print("cs231n-rs check: PATH is required (the folder that holds your cs231n package)", file=sys.stderr)
        return 2
    folder = _package_dir(args.path)
    if folder is None:
        print("cs231n-rs check: no cs231n package in %s" % os.path.abspath(args.path), file=sys.stderr)
        return 2
    specs = _specs.select(args.only)
    if not specs:
        print("cs231n-rs check: nothing matches --only %s" % " ".join(args.only), file=sys.stderr)
        return 2
    by_module = {}
    for s in specs:
        by_module.setdefault(s.module, []).append(s.name)
    results, absent = [], []
    colour = _report.use_colour(sys.stdout)
    progress = sys.stderr.isatty()
    for module, names in by_module.items():
        if not _module_file(folder, module):
            absent.extend(names)
            continue
        if progress:
            sys.stderr.write("checking cs231n.%s ...\r" % module)
            sys.stderr.flush()

        def collect(result):
            if result["status"] == "error" and not result.get("hint"):
                result["hint"] = _hints.error_hint(result.get("message"))
            if result["status"] == "absent":
                absent.append(result["function"])
            else:
                results.append(result)

        _runner.run_module(folder, module, names, args.cap, not args.no_speed, args.case_cap, collect,
                           memory_gb=args.memory_limit)
    if progress:
        sys.stderr.write(" " * 60 + "\r")
    # With --json - the JSON owns stdout and the table goes to stderr.
    out = sys.stderr if args.json == "-" else sys.stdout
    print(_report.table(results, folder, colour and out is sys.stdout), file=out)
    if absent:
        print("not found in this folder (not checked): %d" % len(absent), file=out)
    if args.json:
        options = dict(cap=args.cap, case_cap=args.case_cap, speed=not args.no_speed, only=args.only,
                       memory_limit_gb=args.memory_limit)
        _report.write_json(args.json, results, folder, absent, options)
    if not results:
        print("cs231n-rs check: none of the checked functions were found", file=sys.stderr)
    bad = [r for r in results if r["status"] in ("wrong", "error")]
    return 1 if bad else 0
