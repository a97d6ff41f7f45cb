"""The classes of a label: from the plan, or from what the owners publish for the column; and
:class:`ClassLabels`, the label handling a classifier family mixes in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from .._errors import PlanError
from .._schema import ColumnSchema, TableSchema
from ._parameters import Param


def numeric_classes(classes: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in classes)


def check_classes(classes: Any) -> tuple[Any, ...] | None:
    """``classes`` as a tuple of distinct numbers or distinct texts (at least two), or
    ``None``."""
    if classes is None:
        return None
    if isinstance(classes, str) or not isinstance(classes, Sequence) or len(classes) < 2:
        raise PlanError(f"classes must be a list of at least two label values, not {classes!r}")
    values = list(classes)
    texts = all(isinstance(v, str) for v in values)
    if not texts and not numeric_classes(values):
        raise PlanError(
            "classes must be the label's values, all numbers (for example [0, 1, 2]) or all "
            f"texts (for example ['benign', 'malignant']), not {list(classes)!r}"
        )
    if len(set(values)) != len(values):
        raise PlanError(f"classes name a value more than once: {list(classes)!r}")
    return tuple(values)


def published_classes(label: str, schemas: Mapping[str, TableSchema]) -> tuple[Any, ...] | None:
    """The label's categories as every lake publishes them (one list for all), or ``None``."""
    seen = {lake: schema.column(label).categories for lake, schema in schemas.items()}
    lists = {tuple(v) for v in seen.values() if v is not None}
    if not lists:
        return None
    if len(lists) > 1 or any(v is None for v in seen.values()):
        raise PlanError(
            f"the lakes publish different categories for label {label!r} ({seen}); give the "
            "plan classes=[...] explicitly"
        )
    return check_classes(sorted(next(iter(lists))))


def check_label_column(
    column: ColumnSchema, label: str, classes: tuple[Any, ...] | None, where: str, model: str
) -> None:
    if column.kind in ("text", "date", "other"):
        raise PlanError(
            f"{where}: label {label!r} is {column.kind} ({column.type}) with no published "
            f"classes; {model} needs a label stored as numbers (class values), or the owner "
            "to publish its categories (add_table(..., categories={...}))."
        )
    if (
        classes is not None
        and column.categories is not None
        and not numeric_classes(classes)
        and set(classes) != set(column.categories)
    ):
        raise PlanError(
            f"{where}: the plan's classes of label {label!r} ({list(classes)}) are not the "
            f"categories this lake publishes ({list(column.categories)})"
        )
    if classes is not None and not numeric_classes(classes) and column.kind != "categorical":
        raise PlanError(
            f"{where}: the plan names label {label!r}'s classes as texts, but this lake "
            f"publishes no categories for it ({column.kind}); ask the owner to publish them"
        )
    if classes is None and column.kind not in ("binary", "boolean") and column.categories is None:
        raise PlanError(
            f"{where}: {model} needs the classes of label {label!r}: give classes=[...] in the "
            "plan, or ask the owner to publish the column's categories."
        )


def class_index(y: np.ndarray, classes: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each label's position in ``classes``, and which labels are one of them."""
    values = np.asarray(classes, dtype=np.float64)
    order = np.argsort(values)
    sorted_values = values[order]
    pos = np.clip(np.searchsorted(sorted_values, y), 0, len(values) - 1)
    valid = sorted_values[pos] == y
    return order[pos], valid


def one_hot(t: np.ndarray, k: int) -> np.ndarray:
    """Class indices ``t`` as rows of ``k`` zeros with a one at the class."""
    Y = np.zeros((len(t), k))
    Y[np.arange(len(t)), t.astype(int)] = 1.0
    return Y


class ClassLabels:
    """The label handling of a classifier with ``classes`` (a mixin for plan families)."""

    label: str
    model: ClassVar[str]
    classes: tuple[Any, ...] | None
    parameters: ClassVar[tuple[Param, ...]] = (
        Param(
            "classes",
            "numbers",
            "The label's values, for example [0, 1, 2]; None takes the categories the owners "
            "publish for the label column (or 0 and 1 for a binary label).",
            optional=True,
            convert=check_classes,
        ),
    )

    @property
    def class_values(self) -> tuple[float, ...]:
        """The classes as the lakes code the label: their values when they are numbers,
        else their positions (the lake reads a text label as its class's index)."""
        classes = self.classes or (0.0, 1.0)
        if numeric_classes(classes):
            return tuple(float(c) for c in classes)
        return tuple(float(i) for i in range(len(classes)))

    @property
    def model_classes(self) -> np.ndarray:
        """The classes a trained model predicts (texts, or numbers)."""
        classes = self.classes or (0, 1)
        return np.asarray(classes if not numeric_classes(classes) else self.class_values)

    @property
    def encodings(self) -> dict[str, tuple[Any, ...]]:
        coded = super().encodings  # type: ignore[misc]
        if self.classes is not None and not numeric_classes(self.classes):
            coded[self.label] = tuple(self.classes)
        return coded  # type: ignore[no-any-return]

    def _resolved_family(self, schemas: Mapping[str, TableSchema]) -> Any:
        if self.classes is not None:
            return self
        published = published_classes(self.label, schemas)
        if published is None and all(
            s.column(self.label).kind in ("binary", "boolean") for s in schemas.values()
        ):
            published = (0, 1)
        return self if published is None else replace(self, classes=published)  # type: ignore[type-var]

    def check_label(self, column: ColumnSchema, where: str) -> None:
        check_label_column(column, self.label, self.classes, where, self.model)

    def invalid_labels(self, y: np.ndarray) -> int:
        return int(np.count_nonzero(~self._valid_mask(y)))

    def _valid_mask(self, y: np.ndarray) -> np.ndarray:
        return class_index(y, self.class_values)[1]

    def prepare_labels(self, y: np.ndarray, request: Mapping[str, Any]) -> np.ndarray:
        return class_index(y, self.class_values)[0].astype(np.float64)

    def mock_labels(self, column: ColumnSchema, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.class_values, dtype=np.float64), size=n)


class BinaryLabels(ClassLabels):
    """The label handling of a two-class family: a 0/1 or true/false label, or two published
    categories (``classes``, the second positive)."""

    # how messages name the family ("": its model name), and what they suggest for a label
    # of more classes and for one that is not binary
    binary_name: ClassVar[str] = ""
    more_classes_hint: ClassVar[str] = ""
    other_label_hint: ClassVar[str] = ""

    def _validate_classes(self) -> None:
        object.__setattr__(self, "classes", check_classes(self.classes))
        if self.classes is not None and len(self.classes) != 2:
            raise PlanError(
                f"{self.binary_name or self.model} learns two classes, not {len(self.classes)} "
                f"({list(self.classes)}){self.more_classes_hint}"
            )

    @property
    def model_classes(self) -> np.ndarray:
        """The classes a trained model predicts: 0 and 1 unless the plan names others."""
        return super().model_classes if self.classes not in (None, (0, 1)) else np.array([0, 1])

    def _resolved_family(self, schemas: Mapping[str, TableSchema]) -> Any:
        if self.classes is not None or all(
            s.column(self.label).kind in ("binary", "boolean") for s in schemas.values()
        ):
            return self
        published = published_classes(self.label, schemas)
        # other than two categories: the lakes refuse the label, naming themselves
        return (
            self if published is None or len(published) != 2 else replace(self, classes=published)  # type: ignore[type-var]
        )

    def check_label(self, column: ColumnSchema, where: str) -> None:
        two = self.classes is not None or (
            column.categories is not None and len(column.categories) == 2
        )
        if column.kind not in ("binary", "boolean") and not two:
            raise PlanError(
                f"{where}: label {self.label!r} is {column.kind} ({column.type}), not binary; "
                f"{self.binary_name or self.model} needs a label whose values are only 0 and 1 "
                f"(or true/false, or two published categories). {self.other_label_hint}"
            )
        super().check_label(column, where)
