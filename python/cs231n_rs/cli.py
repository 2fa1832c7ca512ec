"""The ``cs231n-rs`` command (also ``python -m cs231n_rs``).

Subcommands:

* ``tour``  -- assignment 1's pipelines (kNN, SVM, softmax) end to end, with plots (:mod:`cs231n_rs.tour`).
* ``bench`` -- the Rust kernels timed against the NumPy reference (:mod:`cs231n_rs.bench`).
* ``check`` -- a student's own cs231n package graded against the reference, function by function
  (:mod:`cs231n_rs.check`).

Each subcommand lives in its own module, which provides ``add_arguments(parser)`` and
``run(args, argv)``; heavy imports (matplotlib, tqdm, torch) happen only when a subcommand runs.
"""

import argparse
import sys

PROG = "cs231n-rs"

#: name -> (module, one-line help)
SUBCOMMANDS = {
    "tour": ("cs231n_rs.tour", "run assignment 1's kNN, SVM and softmax pipelines and save the plots"),
    "bench": ("cs231n_rs.bench", "time the Rust kernels against the NumPy reference"),
    "check": ("cs231n_rs.check", "grade your own cs231n package against the reference, with gradients and speed"),
}


def build_parser():
    """The argparse parser of ``cs231n-rs`` with every subcommand."""
    import importlib

    import cs231n_rs

    parser = argparse.ArgumentParser(prog=PROG, description="cs231n-rs: the CS231n assignment code, computed in Rust.")
    parser.add_argument("--version", action="version", version="%s %s" % (PROG, cs231n_rs.__version__))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub_parser = sub.add_parser(name, help=help_text, description=(module.__doc__ or "").split("\n\n")[0])
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(run=module.run)
    return parser


def main(argv=None):
    """Entry point of the ``cs231n-rs`` console script; returns the exit code."""
    if argv is None:
        argv = sys.argv[1:]
    argv = list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.run(args, argv) or 0


if __name__ == "__main__":
    sys.exit(main())
