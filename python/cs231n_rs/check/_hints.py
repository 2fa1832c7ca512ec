"""Hints for errors (as opposed to wrong results): what an exception from the student's code most
likely means."""

import re

_RULES = (
    (re.compile(r"im2col_cython|col2im_6d_cython|col2im_cython"),
     "The Cython extension of fast_layers is not built: run `python setup.py build_ext --inplace` inside cs231n/."),
    (re.compile(r"No module named '([^']+)'"),
     "Your code imports {0}, which is not installed in this Python: install it or remove the import."),
    (re.compile(r"\bSyntaxError\b|\bIndentationError\b|\bTabError\b"),
     "Python cannot parse this file: fix the syntax error at the line shown."),
    (re.compile(r"took more than .* on this small case|no result after"),
     "Your code did not finish on a small input: look for an infinite loop."),
)


def error_hint(message):
    """A one-sentence hint for an error message, or None."""
    if not message:
        return None
    for pattern, text in _RULES:
        m = pattern.search(message)
        if m:
            return text.format(*m.groups())
    return None
