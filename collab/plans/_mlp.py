"""A small multi-layer perceptron, in numpy inside each lake's Spark tasks."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ._classes import ClassLabels, one_hot
from ._model import Classifier, Model
from ._parameters import Param
from ._plan import register_family
from ._rounds import ClassifierRoundPlan, sigmoid, softmax
from ._stats import Standardizer

ACTIVATIONS = ("relu", "tanh")
_METRIC_ROWS = 1 << 15  # rows per chunk of the incoming weights' loss pass


def _act(name: str, z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0) if name == "relu" else np.tanh(z)


def _act_grad(name: str, a: np.ndarray) -> np.ndarray:
    """The activation's derivative, from its output ``a``."""
    return (a > 0).astype(a.dtype) if name == "relu" else 1.0 - a * a


def layer_sizes(n_features: int, hidden: Sequence[int], n_classes: int) -> list[int]:
    return [n_features, *hidden, 1 if n_classes == 2 else n_classes]


def unpack(w: np.ndarray, sizes: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    layers, at = [], 0
    for fan_in, fan_out in itertools.pairwise(sizes):
        W = w[at : at + fan_in * fan_out].reshape(fan_in, fan_out)
        at += fan_in * fan_out
        b = w[at : at + fan_out]
        at += fan_out
        layers.append((W, b))
    return layers


def forward(
    Z: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]], activation: str
) -> tuple[list[np.ndarray], np.ndarray]:
    """The hidden activations (input first) and the output layer's margins."""
    acts = [Z]
    for W, b in layers[:-1]:
        acts.append(_act(activation, acts[-1] @ W + b))
    W, b = layers[-1]
    return acts, acts[-1] @ W + b


@dataclass(frozen=True, eq=False, kw_only=True)
class MLPModel(Classifier):
    """A trained perceptron: ``coefs_`` and ``intercepts_`` per layer (as scikit-learn's),
    the first layer acting on the original features."""

    coefs_: tuple[np.ndarray, ...]
    intercepts_: tuple[np.ndarray, ...]
    activation: str = "relu"

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Probabilities of each of ``classes_``, one row per input row."""
        layers = list(zip(self.coefs_, self.intercepts_, strict=True))
        _, out = forward(self._matrix(X), layers, self.activation)
        if len(self.classes_) == 2:
            p = sigmoid(out[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(out)

    def to_sklearn(self) -> Any:
        """An equivalent fitted ``sklearn.neural_network.MLPClassifier``."""
        from sklearn.neural_network import MLPClassifier as SkMLPClassifier
        from sklearn.preprocessing import LabelBinarizer

        hidden = tuple(W.shape[1] for W in self.coefs_[:-1])
        sk = SkMLPClassifier(hidden_layer_sizes=hidden, activation=self.activation)
        sk.coefs_ = [W.copy() for W in self.coefs_]
        sk.intercepts_ = [b.copy() for b in self.intercepts_]
        sk.n_layers_ = len(self.coefs_) + 1
        sk.n_outputs_ = self.coefs_[-1].shape[1]
        sk.out_activation_ = "logistic" if len(self.classes_) == 2 else "softmax"
        sk.classes_ = self.classes_
        sk._label_binarizer = LabelBinarizer().fit(self.classes_)
        sk.n_iter_ = self.rounds
        return self._named(sk)

    def _learned_shapes(self) -> dict[str, tuple[Any, tuple[int, ...]]]:
        shapes = super()._learned_shapes()
        width = len(self.features)
        last = len(self.coefs_) - 1
        outputs = 1 if len(self.classes_) == 2 else len(self.classes_)
        if len(self.intercepts_) != len(self.coefs_):
            shapes["intercepts_"] = (np.empty(len(self.intercepts_)), (len(self.coefs_),))
            return shapes
        for i, (W, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            units = outputs if i == last else (np.shape(W)[1] if np.ndim(W) == 2 else -1)
            shapes[f"coefs_[{i}]"] = (W, (width, units))
            shapes[f"intercepts_[{i}]"] = (b, (units,))
            width = units
        return shapes

    def _params(self) -> dict[str, Any]:
        return {
            "classes": self.classes_.tolist(),
            "activation": self.activation,
            "coefs": [W.tolist() for W in self.coefs_],
            "intercepts": [b.tolist() for b in self.intercepts_],
        }

    def report_table(self) -> dict[str, Any]:
        rows = [
            [f"layer {i + 1}", f"{W.shape[0]} → {W.shape[1]}", int(W.size + b.size)]
            for i, (W, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True))
        ]
        return {
            "title": "Layers",
            "header": ["layer", "shape", "parameters"],
            "rows": rows,
            "note": f"{self.activation} hidden units; the first layer takes the original features",
        }


@register_family
@dataclass(frozen=True, eq=False, kw_only=True)
class MLPClassifier(ClassLabels, ClassifierRoundPlan):
    """A multi-layer perceptron classifier trained by FedAvg, or FedProx with ``fedprox_mu``.

    Two classes use one logistic output (as scikit-learn does), more use a softmax.

    Parameters
    ----------
    table, features, label
        The table, its numeric input columns and the label.
    hidden
        Units per hidden layer, for example ``(32,)`` or ``(64, 32)``.
    activation
        ``"relu"`` or ``"tanh"`` for the hidden layers.
    classes
        The label's values; ``None`` takes the owners' published categories (or 0/1 for a
        binary label).
    seed
        Seeds the initial weights (Glorot-uniform, as scikit-learn's).
    rounds, local_epochs, learning_rate, batch_size, l2, server_optimizer, server_learning_rate
        How to train (see :class:`collab.plans.RoundPlan`).
    secure_aggregation, secure_threshold, dp
        Privacy (see :class:`collab.plans.Plan`).
    """

    model: ClassVar[str] = "mlp_classifier"
    model_class: ClassVar[type[Model]] = MLPModel

    parameters: ClassVar[tuple[Param, ...]] = (
        Param(
            "hidden",
            "ints",
            "Units per hidden layer, for example (32,) or (64, 32).",
            low=1,
            must="a list of layer sizes of at least 1, for example (32,)",
        ),
        Param(
            "activation", "text", "relu or tanh for the hidden layers.", choices=ACTIVATIONS
        ),
        Param(
            "seed", "int", "Seeds the initial weights (Glorot-uniform, as scikit-learn's).", low=0
        ),
    )

    hidden: tuple[int, ...] = (32,)
    activation: str = "relu"
    classes: tuple[float, ...] | None = None
    seed: int = 0
    rounds: int = 50
    local_epochs: int = 5
    learning_rate: float = 0.1
    batch_size: int | None = 64

    @property
    def k(self) -> int:
        return len(self.class_values)

    def sizes(self, n_features: int) -> list[int]:
        return layer_sizes(n_features, self.hidden, self.k)

    def n_weights(self, n_features: int) -> int:
        sizes = self.sizes(n_features)
        return sum(a * b + b for a, b in itertools.pairwise(sizes))

    def initial_weights(self, n_features: int) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        parts = []
        sizes = self.sizes(n_features)
        last = len(sizes) - 2
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            factor = 2.0 if (i == last and self.k == 2) else 6.0
            bound = np.sqrt(factor / (fan_in + fan_out))
            parts.append(rng.uniform(-bound, bound, fan_in * fan_out))
            parts.append(rng.uniform(-bound, bound, fan_out))
        return np.concatenate(parts)

    def penalised(self, n_features: int) -> np.ndarray:
        mask = []
        sizes = self.sizes(n_features)
        for fan_in, fan_out in itertools.pairwise(sizes):
            mask.append(np.ones(fan_in * fan_out))
            mask.append(np.zeros(fan_out))
        return np.concatenate(mask)

    def _proba(self, out: np.ndarray) -> np.ndarray:
        if self.k == 2:
            p = sigmoid(out[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(out)

    def _output_error(self, out: np.ndarray, t: np.ndarray) -> np.ndarray:
        if self.k == 2:
            return (sigmoid(out[:, 0]) - t)[:, None]
        return softmax(out) - one_hot(t, self.k)

    def _backward(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray, per_row: bool) -> np.ndarray:
        layers = unpack(w, self.sizes(Z.shape[1]))
        acts, out = forward(Z, layers, self.activation)
        delta = self._output_error(out, t)
        grads: list[np.ndarray] = []
        for i in range(len(layers) - 1, -1, -1):
            a = acts[i]
            if per_row:
                gW = (a[:, :, None] * delta[:, None, :]).reshape(len(t), -1)
                grads[:0] = [gW, delta]
            else:
                grads[:0] = [(a.T @ delta).ravel() / len(t), delta.mean(axis=0)]
            if i:
                delta = (delta @ layers[i][0].T) * _act_grad(self.activation, a)
        return np.concatenate(grads, axis=1 if per_row else 0)

    def gradient(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        return self._backward(Z, t, w, per_row=False)

    def descend(
        self, Z: np.ndarray, t: np.ndarray, w0: np.ndarray, mask: np.ndarray, mu: float
    ) -> np.ndarray:
        """:meth:`RoundPlan.descend` with each layer's weights updated in place, as views of
        one vector: the arithmetic of :meth:`gradient` and the step, per layer, without
        building the flat gradient of every mini-batch."""
        sizes = self.sizes(Z.shape[1])
        w = w0.copy()
        layers = unpack(w, sizes)
        # per parameter array (each layer's weights, then its biases): the array (a view of
        # w), its L2 penalty (None: none) and its start for the proximal term (None: no term)
        params = [
            (param, None if not penalty.any() else penalty, start if mu else None)
            for layer, penalties, starts in zip(
                layers, unpack(mask, sizes), unpack(w0, sizes), strict=True
            )
            for param, penalty, start in zip(layer, penalties, starts, strict=True)
        ]
        rate, binary, act = float(self.learning_rate), self.k == 2, self.activation
        targets = t[:, None] if binary else one_hot(t, self.k)
        n, batch = len(t), self.batch_size or len(t)
        last = len(layers) - 1
        for _ in range(self.local_epochs):
            for begin in range(0, n, batch):
                Zb, Tb = Z[begin : begin + batch], targets[begin : begin + batch]
                m = len(Zb)
                acts, out = forward(Zb, layers, act)
                delta = (sigmoid(out) if binary else softmax(out)) - Tb
                for i in range(last, -1, -1):
                    grads = ((acts[i].T @ delta) / m, np.add.reduce(delta, axis=0) / m)
                    if i:
                        delta = (delta @ layers[i][0].T) * _act_grad(act, acts[i])
                    step = zip(params[2 * i : 2 * i + 2], grads, strict=True)
                    for (param, penalty, start), g in step:
                        if penalty is not None:
                            g = g + penalty * param
                        if start is not None:
                            g = g + mu * (param - start)
                        param -= rate * g
        return w

    def row_gradients(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        return self._backward(Z, t, w, per_row=True)

    def _row_loss_correct(
        self, Z: np.ndarray, t: np.ndarray, w: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        _, out = forward(Z, unpack(w, self.sizes(Z.shape[1])), self.activation)
        P = self._proba(out)
        picked = P[np.arange(len(t)), t.astype(int)]
        return -np.log(np.maximum(picked, 1e-300)), np.argmax(P, axis=1) == t

    def metric_totals(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        # in chunks of rows: at once, a million rows' hidden layer alone is 256 MB, allocated
        # and faulted in again at every step (half the step's time at 1M rows, and most of
        # its variation)
        totals = np.zeros(2)
        for begin in range(0, len(t), _METRIC_ROWS):
            rows = slice(begin, begin + _METRIC_ROWS)
            loss, correct = self._row_loss_correct(Z[rows], t[rows], w)
            totals += (float(loss.sum()), float(correct.sum()))
        return totals

    def row_metrics(self, Z: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        loss, correct = self._row_loss_correct(Z, t, w)
        return np.column_stack([np.minimum(loss, 1.0), correct])

    def build_model(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> MLPModel:
        d = self.n_inputs
        layers = unpack(np.asarray(state["weights"], dtype=np.float64), self.sizes(d))
        # fold the standardisation into the first layer: the model takes raw features
        W0, b0 = layers[0]
        W_raw = W0 / standardizer.std[:, None]
        layers[0] = (W_raw, b0 - standardizer.mean @ W_raw)
        return MLPModel(
            features=self.input_names,
            label=self.label,
            classes_=self.model_classes,
            coefs_=tuple(W.copy() for W, _ in layers),
            intercepts_=tuple(b.copy() for _, b in layers),
            activation=self.activation,
            feature_means_=standardizer.mean,
            **context,
        )


