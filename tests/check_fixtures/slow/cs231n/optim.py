"""An sgd that hangs and ignores the alarm signal (the time cap cannot stop it: the parent's
backstop must), next to a correct sgd_momentum."""

import signal

from cs231n_rs.reference.optim import sgd_momentum  # noqa: F401


def sgd(w, dw, config=None):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        pass
