"""The Solver (cs231n ``solver.py``): minibatch training with the update rules of :mod:`cs231n_rs.optim`.

A drop-in for cs231n's ``Solver``: the same constructor, keyword arguments and errors, attributes and
histories, the same draws from NumPy's global RNG in the same order (``np.random.choice`` for each
minibatch and each accuracy subsample), the same printed lines, the same checkpoint files
(``"%s_epoch_%d.pkl"``), and ``model.params = best_params`` at the end.

Beyond cs231n:

- ``update_rule`` may also be a function with the update-rule interface.
- ``progress``: a tqdm progress bar over the iterations showing the loss and the last accuracies. By
  default it is on when standard output is a terminal or in a notebook; ``progress=False`` turns it
  off. It changes no printed line and draws nothing from the RNG.
- A fast path: when ``update_rule`` is one of cs231n_rs.optim's own rules, every parameter array
  that can be is updated in place (cs231n replaces ``model.params[p]`` by a new array at every step
  instead), all in one Rust call, with exactly the values, dtypes and ``optim_configs`` the plain loop
  gives. Arrays you hold from ``model.params`` therefore change during training: copy them first to
  keep a snapshot (as ``best_params`` does).
"""

import pickle
import sys
import time

import numpy as np

from . import _core, optim

__all__ = ["Solver"]

#: cs231n_rs.optim's own rules (the functions at import time) and their kernel names.
_OWN_RULES = ((optim.sgd, "sgd"), (optim.sgd_momentum, "sgd_momentum"), (optim.rmsprop, "rmsprop"), (optim.adam, "adam"))


def _in_notebook():
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _default_progress():
    try:
        tty = sys.stdout.isatty()
    except Exception:
        tty = False
    return bool(tty or _in_notebook())


class Solver(object):
    """
    A Solver encapsulates all the logic necessary for training classification
    models. The Solver performs stochastic gradient descent using different
    update rules defined in optim.py.

    The solver accepts both training and validation data and labels so it can
    periodically check classification accuracy on both training and validation
    data to watch out for overfitting.

    To train a model, you will first construct a Solver instance, passing the
    model, dataset, and various options (learning rate, batch size, etc) to the
    constructor. You will then call the train() method to run the optimization
    procedure and train the model.

    After the train() method returns, model.params will contain the parameters
    that performed best on the validation set over the course of training.
    In addition, the instance variable solver.loss_history will contain a list
    of all losses encountered during training and the instance variables
    solver.train_acc_history and solver.val_acc_history will be lists of the
    accuracies of the model on the training and validation set at each epoch.

    Example usage might look something like this::

        data = {
          'X_train': # training data
          'y_train': # training labels
          'X_val': # validation data
          'y_val': # validation labels
        }
        model = MyAwesomeModel(hidden_size=100, reg=10)
        solver = Solver(model, data,
                        update_rule='sgd',
                        optim_config={
                          'learning_rate': 1e-4,
                        },
                        lr_decay=0.95,
                        num_epochs=5, batch_size=200,
                        print_every=100)
        solver.train()

    A Solver works on a model object that must conform to the following API:

    - model.params must be a dictionary mapping string parameter names to numpy
      arrays containing parameter values.

    - model.loss(X, y) must be a function that computes training-time loss and
      gradients, and test-time classification scores, with the following inputs
      and outputs:

      Inputs:
      - X: Array giving a minibatch of input data of shape (N, d_1, ..., d_k)
      - y: Array of labels, of shape (N,) giving labels for X where y[i] is the
        label for X[i].

      Returns:
      If y is None, run a test-time forward pass and return:
      - scores: Array of shape (N, C) giving classification scores for X where
        scores[i, c] gives the score of class c for X[i].

      If y is not None, run a training time forward and backward pass and
      return a tuple of:
      - loss: Scalar giving the loss
      - grads: Dictionary with the same keys as self.params mapping parameter
        names to gradients of the loss with respect to those parameters.
    """

    def __init__(self, model, data, **kwargs):
        """
        Construct a new Solver instance.

        Required arguments:
        - model: A model object conforming to the API described above
        - data: A dictionary of training and validation data containing:
          'X_train': Array, shape (N_train, d_1, ..., d_k) of training images
          'X_val': Array, shape (N_val, d_1, ..., d_k) of validation images
          'y_train': Array, shape (N_train,) of labels for training images
          'y_val': Array, shape (N_val,) of labels for validation images

        Optional arguments:
        - update_rule: A string giving the name of an update rule in optim.py
          (or, beyond cs231n, an update-rule function). Default is 'sgd'.
        - optim_config: A dictionary containing hyperparameters that will be
          passed to the chosen update rule. Each update rule requires different
          hyperparameters (see optim.py) but all update rules require a
          'learning_rate' parameter so that should always be present.
        - lr_decay: A scalar for learning rate decay; after each epoch the
          learning rate is multiplied by this value.
        - batch_size: Size of minibatches used to compute loss and gradient
          during training.
        - num_epochs: The number of epochs to run for during training.
        - print_every: Integer; training losses will be printed every
          print_every iterations.
        - verbose: Boolean; if set to false then no output will be printed
          during training.
        - num_train_samples: Number of training samples used to check training
          accuracy; default is 1000; set to None to use entire training set.
        - num_val_samples: Number of validation samples to use to check val
          accuracy; default is None, which uses the entire validation set.
        - checkpoint_name: If not None, then save model checkpoints here every
          epoch.
        - progress: (beyond cs231n) show a tqdm progress bar while training;
          default: when standard output is a terminal or in a notebook.
        """
        self.model = model
        self.X_train = data["X_train"]
        self.y_train = data["y_train"]
        self.X_val = data["X_val"]
        self.y_val = data["y_val"]

        # Unpack keyword arguments
        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)

        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)
        progress = kwargs.pop("progress", None)
        self.progress = _default_progress() if progress is None else bool(progress)

        # Throw an error if there are extra keyword arguments
        if len(kwargs) > 0:
            extra = ", ".join('"%s"' % k for k in list(kwargs.keys()))
            raise ValueError("Unrecognized arguments %s" % extra)

        # Make sure the update rule exists, then replace the string
        # name with the actual function
        if isinstance(self.update_rule, str):
            if not hasattr(optim, self.update_rule):
                raise ValueError('Invalid update_rule "%s"' % self.update_rule)
            self.update_rule = getattr(optim, self.update_rule)
        elif not callable(self.update_rule):
            raise ValueError('Invalid update_rule "%s"' % (self.update_rule,))

        self._reset()

    def _reset(self):
        """
        Set up some book-keeping variables for optimization. Don't call this
        manually.
        """
        # Set up some variables for book-keeping
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []

        # Make a deep copy of the optim_config for each parameter
        self.optim_configs = {}
        for p in self.model.params:
            d = {k: v for k, v in self.optim_config.items()}
            self.optim_configs[p] = d

    def _step(self):
        """
        Make a single gradient update. This is called by train() and should not
        be called manually.
        """
        # Make a minibatch of training data
        num_train = self.X_train.shape[0]
        batch_mask = np.random.choice(num_train, self.batch_size)
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]

        # Compute loss and gradient
        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(loss)

        # Perform a parameter update
        rule = self.update_rule
        name = None
        if type(self.model.params) is dict:
            for own, own_name in _OWN_RULES:  # identity: any callable may be an update rule
                if rule is own:
                    name = own_name
        if name is not None:  # the fast path: in place, one Rust call
            params, configs = self.model.params, self.optim_configs
            if not _core.solver_update(name, params, grads, configs):  # the common case, all in Rust
                optim._update_all(rule, name, params, grads, configs)
            return
        for p, w in self.model.params.items():
            dw = grads[p]
            config = self.optim_configs[p]
            next_w, next_config = rule(w, dw, config)
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    def _save_checkpoint(self):
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": self.model,
            "update_rule": self.update_rule,
            "lr_decay": self.lr_decay,
            "optim_config": self.optim_config,
            "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }
        filename = "%s_epoch_%d.pkl" % (self.checkpoint_name, self.epoch)
        if self.verbose:
            self._print('Saving checkpoint to "%s"' % filename)
        with open(filename, "wb") as f:
            pickle.dump(checkpoint, f)

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """
        Check accuracy of the model on the provided data.

        Inputs:
        - X: Array of data, of shape (N, d_1, ..., d_k)
        - y: Array of labels, of shape (N,)
        - num_samples: If not None, subsample the data and only test the model
          on num_samples datapoints.
        - batch_size: Split X and y into batches of this size to avoid using
          too much memory.

        Returns:
        - acc: Scalar giving the fraction of instances that were correctly
          classified by the model.
        """

        # Maybe subsample the data
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            mask = np.random.choice(N, num_samples)
            N = num_samples
            X = X[mask]
            y = y[mask]

        # Compute predictions in batches
        num_batches = N // batch_size
        if N % batch_size != 0:
            num_batches += 1
        y_pred = []
        for i in range(num_batches):
            start = i * batch_size
            end = (i + 1) * batch_size
            scores = self.model.loss(X[start:end])
            y_pred.append(np.argmax(scores, axis=1))
        y_pred = np.hstack(y_pred)
        acc = np.mean(y_pred == y)

        return acc

    def _print(self, line):
        """``print(line)``, above the progress bar when one is showing."""
        bar = getattr(self, "_bar", None)
        if bar is not None:
            bar.write(line, file=sys.stdout)
        else:
            print(line)

    def train(self):
        """
        Run optimization to train the model.
        """
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch

        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=num_iterations, desc="train", unit="it", dynamic_ncols=True)
        self._bar = bar
        shown = 0.0
        try:
            for t in range(num_iterations):
                self._step()

                # Maybe print training loss
                if self.verbose and t % self.print_every == 0:
                    self._print("(Iteration %d / %d) loss: %f" % (t + 1, num_iterations, self.loss_history[-1]))

                # At the end of every epoch, increment the epoch counter and decay
                # the learning rate.
                epoch_end = (t + 1) % iterations_per_epoch == 0
                if epoch_end:
                    self.epoch += 1
                    for k in self.optim_configs:
                        self.optim_configs[k]["learning_rate"] *= self.lr_decay

                # Check train and val accuracy on the first iteration, the last
                # iteration, and at the end of each epoch.
                first_it = t == 0
                last_it = t == num_iterations - 1
                checked = first_it or last_it or epoch_end
                if checked:
                    train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
                    val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
                    self.train_acc_history.append(train_acc)
                    self.val_acc_history.append(val_acc)
                    self._save_checkpoint()

                    if self.verbose:
                        self._print(
                            "(Epoch %d / %d) train acc: %f; val_acc: %f"
                            % (self.epoch, self.num_epochs, train_acc, val_acc)
                        )

                    # Keep track of the best model
                    if val_acc > self.best_val_acc:
                        self.best_val_acc = val_acc
                        self.best_params = {}
                        for k, v in self.model.params.items():
                            self.best_params[k] = v.copy()

                if bar is not None:
                    now = time.monotonic()
                    if checked or now - shown >= 0.25:  # formatting the postfix costs; not every step
                        shown = now
                        bar.set_postfix_str(self._postfix(), refresh=False)
                    bar.update(1)
        finally:
            self._bar = None
            if bar is not None:
                bar.close()

        # At the end of training swap the best params into the model
        self.model.params = self.best_params

    def _postfix(self):
        parts = ["loss %.4g" % self.loss_history[-1]]
        if self.train_acc_history:
            parts.append("train acc %.3f" % self.train_acc_history[-1])
            parts.append("val acc %.3f" % self.val_acc_history[-1])
        return ", ".join(parts)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_bar", None)  # a live progress bar cannot be pickled
        return state
