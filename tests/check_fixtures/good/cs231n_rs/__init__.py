"""A decoy in the student's folder: `cs231n-rs check` must never import it (its own cs231n_rs wins)."""

raise ImportError("the student's folder shadowed cs231n_rs: the check is not isolated")
