"""Plans are data: a validated spec that a lake checks against its schema and policy.

:class:`Plan` is the base of every model family. A family is one class (one module under
``collab/plans/``) that owns everything specific to it: the labels it accepts, the lake-side
step over a block of rows, the typed :class:`~collab.plans.Update` it returns, how the
coordinator turns the securely aggregated sum into the next public state, its DP sensitivity,
the metrics its history records and the model it builds. The coordinator, the lakes, the
engine, ``simulate`` and the displays only use this interface, so a family registered with
:func:`register_family` (in ``collab`` or in a user's own module) trains end to end.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any, ClassVar, Literal

import numpy as np

from .._args import names, repeated
from .._display import RichDisplay
from .._errors import PlanError, PolicyViolation, PrivacyError
from .._policy import Policy
from .._schema import ColumnSchema, TableSchema
from ..features import Design, InputColumn, Transform
from ._contract import LakeStep, Strategy
from ._model import Model
from ._parameters import COMMON, Param, check_parameters, undeclared
from ._registry import MODEL_TASKS, PLAN_FAMILIES, plan_class
from ._stats import Preprocessing, Standardizer
from ._update import Update

Task = Literal["classification", "regression", "statistics", "evaluation"]


def canonical_json(data: Any) -> str:
    """The one JSON text of ``data`` that hashes the same everywhere."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _plain_encoding(encoding: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: {column: list(values) for column, values in (encoding.get(key) or {}).items()}
        for key in ("categories", "bounds")
        if encoding.get(key)
    }


def _dp_from_spec(data: Mapping[str, Any] | None) -> Any:
    if data is None:
        return None
    from ..secure import DP

    return DP(**data)


@dataclass(frozen=True, eq=False, kw_only=True)
class Plan(LakeStep, Strategy, RichDisplay):
    """Base of every plan: a model family, a table, its columns, and how to train.

    Parameters
    ----------
    table
        The table's name; it must exist on every lake the plan is sent to.
    features
        Numeric, non-private columns used as inputs.
    label
        The column to predict.
    secure_aggregation
        Mask each lake's update so that only the sum over lakes can be read.
    secure_threshold
        How many lakes must survive a round for it to complete (t of n); a majority by default.
        Fewer survivors abort the job without revealing any lake's update.
    dp
        ``collab.DP(epsilon=..., delta=...)`` for differential privacy, or ``None``.
    transforms
        :mod:`collab.features` transforms applied to the features in each lake before the
        family's step (categorical features are one-hot encoded with their published
        categories without asking).
    encoding
        The published categories (and, where a median is fitted, bounds) of the features,
        filled in from the owners' schemas when the plan is sent, so that the owners approve
        an explicit spec; leave it ``None``.
    """

    # --- what a family declares -----------------------------------------------------------
    model: ClassVar[str]  # the family's name in specs, policies, audit logs and saved models
    # the class of the model it trains (its saved models carry the family's name)
    model_class: ClassVar[type[Model] | None] = None
    task: ClassVar[Task] = "classification"
    metric_sums: ClassVar[tuple[str, ...]] = ()  # per-row sums a round reports
    history_metrics: ClassVar[tuple[str, ...]] = ("loss",)  # what job.history shows per round
    primary_metric: ClassVar[str] = "loss"  # the one a dashboard plots beside the loss
    needs_label: ClassVar[bool] = True  # without one, every row counts and none is dropped
    # rows arrive standardised (federated statistics, or the DP bounds); without, as they are
    scales_rows: ClassVar[bool] = True
    # a lake refuses to leave out a row missing an input (survival): synthetic rows hold all
    complete_rows: ClassVar[bool] = False
    # where a plan builder lists the family among those of its task (lower first, then by name)
    offer_order: ClassVar[int] = 0
    # settings written into the spec only when given (specs from before them hash the same)
    _left_out_when_empty: ClassVar[tuple[str, ...]] = ("transforms", "encoding", "follow")
    # the settings checked one by one (features, label, dp and transforms: by _validate_common)
    parameters: ClassVar[tuple[Param, ...]] = (
        Param("table", "text", "The table's name on every lake.", must="a table's name"),
        Param("secure_aggregation", "bool", "Mask each lake's update; only the sum is read."),
        Param(
            "secure_threshold",
            "int",
            "How many lakes must survive a round for it to complete; a majority by default.",
            low=1,
            optional=True,
            must="None (a majority of lakes) or at least 1",
        ),
    )

    table: str
    features: Sequence[str]
    label: str
    secure_aggregation: bool = True
    secure_threshold: int | None = None
    dp: Any = None
    transforms: Sequence[Any] = ()
    encoding: Mapping[str, Any] | None = field(default=None, repr=False)
    # a standing job's terms (``fed.follow``: cadence, cap, expiry, window), which the owners
    # approve with the plan; ``None`` for a plan trained once
    follow: Mapping[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "features", names(self.features, "features"))
        except TypeError as exc:
            raise PlanError(str(exc)) from exc
        if isinstance(self.transforms, Transform | Mapping | str):
            raise PlanError("transforms must be a list, e.g. [collab.features.log1p('x')]")
        object.__setattr__(
            self, "transforms", tuple(Transform.from_spec(t) for t in self.transforms)
        )
        check_parameters(self)
        self._validate_common()
        self._validate()
        self.design  # noqa: B018 - checks the transforms against the features
        if self.dp is not None:
            self._check_dp_fills()
        self.__dict__.pop("_spec_json", None)  # settings may have changed while validating

    def _check_dp_fills(self) -> None:
        column = self._fitted_fill()
        if column is not None:
            raise PlanError(
                f"impute({column.impute.strategy!r}) on {column.name!r} fits its value "
                "from exact pooled statistics, which a DP plan never releases; use "
                "impute('constant', ..., fill_value=...) (a DP plan fills a missing number "
                "with the middle of its published bounds)"
            )

    def _fitted_fill(self) -> InputColumn | None:
        """The first of the design's columns whose missing values are filled from pooled
        statistics (mean, median, most frequent), or ``None``."""
        return next(
            (
                c
                for c in self.design.columns
                if c.impute is not None and c.impute.strategy != "constant"
            ),
            None,
        )

    @property
    def design(self) -> Design:
        """How a lake turns the plan's raw columns into the family's inputs."""
        cached = self.__dict__.get("_design")
        if cached is None:
            encoding = self.encoding or {}
            unknown = set(encoding) - {"categories", "bounds"}
            if unknown:
                raise PlanError(f"unknown encoding settings: {', '.join(sorted(unknown))}")
            cached = Design(
                self.features,
                categories=encoding.get("categories") or {},
                transforms=tuple(self.transforms),
                bounds=encoding.get("bounds") or {},
            )
            object.__setattr__(self, "_design", cached)
        return cached

    @property
    def n_inputs(self) -> int:
        """How many columns the family's step receives (one-hot levels and indicators
        included)."""
        return self.design.width

    @property
    def input_names(self) -> tuple[str, ...]:
        """The names of the columns the family's step receives."""
        return self.design.output_names

    # --- settings -------------------------------------------------------------------------
    def _validate_common(self) -> None:
        if not self.features:
            raise PlanError("features must name at least one column, e.g. features=['age']")
        if any(not isinstance(f, str) or not f for f in self.features):
            raise PlanError(f"every feature must be a column name, got {list(self.features)!r}")
        duplicated = repeated(self.features)
        if duplicated:
            raise PlanError(f"features name {', '.join(duplicated)} more than once")
        if not self.needs_label:
            if self.label:
                raise PlanError(f"a {self.model} request takes no label, not {self.label!r}")
        elif not isinstance(self.label, str) or not self.label:
            raise PlanError(f"label must be a column name, not {self.label!r}")
        if self.label in self.features:
            raise PlanError(f"label {self.label!r} is also listed as a feature; remove it")
        if self.dp is not None:
            from ..secure import DP

            if not isinstance(self.dp, DP):
                raise PlanError(f"dp must be collab.DP(epsilon=..., delta=...), not {self.dp!r}")

    def _validate(self) -> None:
        """Rules of a family that tie settings together (each setting on its own is checked
        by the family's ``parameters`` table); raise :class:`PlanError` naming them."""

    # --- the spec -------------------------------------------------------------------------
    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"model": self.model}
        for f in fields(self):
            value = getattr(self, f.name)
            left_out = f.name in self._left_out_when_empty or f.name in Plan._left_out_when_empty
            if left_out and not value:
                continue  # absent from the spec of a plan without them (its hash unchanged)
            if f.name == "transforms":
                value = [t.to_spec() for t in value]
            elif f.name == "encoding":
                value = _plain_encoding(value)
            elif f.name == "dp" and value is not None and is_dataclass(value):
                value = asdict(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, float):
                value = float(value)
            spec[f.name] = value
        return spec

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Plan:
        return plan_class(spec.get("model"))._from_spec(spec)  # type: ignore[return-value]

    @classmethod
    def _from_spec(cls, spec: Mapping[str, Any]) -> Plan:
        names = {f.name for f in fields(cls)}
        unknown = set(spec) - names - {"model"}
        if unknown:
            raise PlanError(f"unknown plan settings: {', '.join(sorted(unknown))}")
        kwargs = {k: v for k, v in spec.items() if k in names}
        kwargs["dp"] = _dp_from_spec(spec.get("dp"))
        return cls(**kwargs)

    @property
    def spec_json(self) -> str:
        # a plan is frozen once built: its spec is written once (every message of a round
        # names the plan by its hash). The hash is written first: lakes in one process share
        # a plan, and a thread that finds the spec must find its hash too.
        cached = self.__dict__.get("_spec_json")
        if cached is None:
            cached = canonical_json(self.to_spec())
            object.__setattr__(self, "_hash", hashlib.sha256(cached.encode()).hexdigest())
            object.__setattr__(self, "_spec_json", cached)
        return cached

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical spec: what lakes approve and audit."""
        self.spec_json  # noqa: B018 - writes both
        return self.__dict__["_hash"]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and other.spec_json == self.spec_json

    def __hash__(self) -> int:
        return hash(self.spec_json)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns a lake reads for this plan, the label (if any) last."""
        return (*self.features, self.label) if self.label else tuple(self.features)

    @property
    def encodings(self) -> dict[str, tuple[Any, ...]]:
        """Columns a lake reads as the index of their published categories (categorical
        features, and a label whose classes are not numbers)."""
        return dict(self.design.categories)

    # --- checks against a lake ------------------------------------------------------------
    def resolved(
        self, schemas: Mapping[str, TableSchema], policies: Mapping[str, Policy] | None = None
    ) -> Plan:
        """This plan with every setting it leaves to the owners filled in from their published
        ``schemas`` (the categories of categorical features, the bounds a median is read
        against, a label's classes) and ``policies`` (a minimum the owners set), so that
        lakes approve an explicit spec."""
        plan = self
        if self.encoding is None:
            encoding = self._published_encoding(schemas)
            if encoding:
                try:
                    plan = replace(self, encoding=encoding)
                except PlanError as exc:
                    coded = ", ".join(sorted(encoding.get("categories", {})))
                    raise PlanError(
                        f"lakes {', '.join(schemas)}, table {self.table!r} (categorical "
                        f"columns: {coded}): {exc}"
                    ) from exc
        plan = plan._resolved_family(schemas)
        return plan if policies is None else plan._resolved_policies(policies)

    def _resolved_family(self, schemas: Mapping[str, TableSchema]) -> Plan:
        """The family's own settings filled in from ``schemas`` (see :meth:`resolved`)."""
        return self

    def _resolved_policies(self, policies: Mapping[str, Policy]) -> Plan:
        """The family's own settings filled in from the owners' ``policies``."""
        return self

    def _published_encoding(self, schemas: Mapping[str, TableSchema]) -> dict[str, Any]:
        categories: dict[str, list[Any]] = {}
        bounds: dict[str, list[float]] = {}
        medians = {
            c.name
            for c in self.design.columns
            if c.impute is not None and c.impute.strategy == "median"
        }
        for name in self.features:
            found = {}
            for lake, schema in schemas.items():
                if name in schema.column_names:
                    found[lake] = schema.column(name)
            if not found:
                continue
            published = {lake: c.categories for lake, c in found.items()}
            lists = {tuple(v) for v in published.values() if v is not None}
            if len(lists) > 1 or (lists and None in published.values()):
                raise PlanError(
                    f"the lakes publish different categories for column {name!r} "
                    f"({ {k: list(v) if v else None for k, v in published.items()} }); every "
                    "lake must publish the same list for a categorical feature: ask the owners"
                )
            if lists:
                categories[name] = list(next(iter(lists)))
            if name in medians:
                ranges = {lake: c.bounds for lake, c in found.items()}
                if len({r for r in ranges.values()}) == 1 and None not in ranges.values():
                    bounds[name] = list(next(iter(ranges.values())))  # type: ignore[arg-type]
        return _plain_encoding({"categories": categories, "bounds": bounds})

    def check_against(self, schema: TableSchema, policy: Policy) -> None:
        """Raise the first reason this plan cannot run on ``schema`` under ``policy``.

        Every message names the lake, the table and the column, and says what to do instead.
        """
        where = f"lake {schema.lake!r}, table {schema.name!r}"
        for name in self.columns:
            column = schema.column(name)
            if column.private:
                allowed = [c.name for c in schema.columns if not c.private]
                raise PrivacyError(
                    f"{where}: column {name!r} is private and cannot be used by any plan. "
                    f"Use only non-private columns: {', '.join(allowed)}."
                )
            if policy.allowed_columns is not None and name not in policy.allowed_columns:
                raise PolicyViolation(
                    f"{where}: the owner's policy does not allow column {name!r} in plans. "
                    f"Allowed columns: {', '.join(policy.allowed_columns)}."
                )
        for name in self.features:
            self.check_feature(schema.column(name), where)
        if self.label:
            self.check_label(schema.column(self.label), where)
        if self.task == "statistics":
            if not policy.allow_statistics:
                raise PolicyViolation(
                    f"{where}: the owner's policy does not allow statistics requests on this "
                    "table. Ask the owner, or train without looking."
                )
        elif not policy.allows_model(self.governing_family):
            raise PolicyViolation(
                f"{where}: the owner allows only {', '.join(policy.allowed_models or ())} "
                f"models, not {self.governing_family}."
            )
        if self.total_rounds > policy.max_rounds:
            raise PolicyViolation(
                f"{where}: the plan asks for {self.total_rounds} rounds; the owner allows at "
                f"most {policy.max_rounds}. Lower rounds (or raise local_epochs)."
            )
        if schema.extra.get("meets_min_rows") is False:
            raise PolicyViolation(
                f"{where}: the table has fewer labelled rows than the owner's minimum of "
                f"{policy.min_rows}, so no plan may train on it. Leave this lake out."
            )
        self._check_privacy_settings(where, policy, schema)

    @classmethod
    def policy_limits(cls, policies: Sequence[Policy]) -> dict[str, tuple[int, int]]:
        """The ranges the owners' ``policies`` allow the family's settings (what
        :meth:`check_against` enforces, for a plan builder's controls): setting ->
        ``(low, high)``."""
        return {}

    @property
    def governing_family(self) -> str:
        """The family an owner's ``allowed_models`` is checked against (the model's own for
        a request that evaluates one)."""
        return self.model

    def check_feature(self, column: ColumnSchema, where: str) -> None:
        """Raise unless this plan can read ``column`` as a feature: a number, a boolean, or
        a categorical column whose published categories the plan carries; and unless its
        transforms fit the column."""
        name = column.name
        spec = self.design.categories.get(name)
        if column.kind == "categorical":
            if spec is None:
                raise PlanError(
                    f"{where}: feature {name!r} is categorical but the plan does not carry its "
                    "categories; send the plan through a Federation (it fills them in from the "
                    "owners' schemas) or leave encoding=None"
                )
            if tuple(spec) != tuple(column.categories or ()):
                raise PlanError(
                    f"{where}: the plan's categories of {name!r} ({list(spec)}) are not the "
                    f"ones this lake publishes ({list(column.categories or ())}); ask again "
                    "so that they are filled in from the schemas"
                )
        elif spec is not None:
            raise PlanError(
                f"{where}: the plan treats {name!r} as categorical, but this lake publishes "
                f"no categories for it ({column.kind}); ask the owner, or leave it out"
            )
        elif column.kind == "date":
            raise PlanError(
                f"{where}: feature {name!r} is a date ({column.type}); a date is not a number. "
                "Drop it, or ask the owner for a view with a number derived from it (for "
                "example days since admission)."
            )
        elif column.kind in ("text", "other"):
            raise PlanError(
                f"{where}: feature {name!r} is {column.kind} ({column.type}) with no published "
                "categories, so it cannot be encoded. Drop it from features, or ask the owner "
                "to publish its categories (add_table(..., categories={...}))."
            )
        self._check_transforms(column, where)

    def _check_transforms(self, column: ColumnSchema, where: str) -> None:
        """The transforms of ``column`` against what the lake publishes of it."""
        found = next(c for c in self.design.columns if c.name == column.name)
        if found.impute is not None:
            strategy = found.impute.strategy
            value = found.impute.fill_value
            if (
                strategy == "constant"
                and not found.levels
                and (isinstance(value, bool) or not isinstance(value, int | float))
            ):
                raise PlanError(
                    f"{where}: impute('constant') on {column.name!r} fills a number with "
                    f"{value!r}; give a number (or publish the column's categories)"
                )
            if strategy == "most_frequent" and column.kind == "numeric" and not found.levels:
                raise PlanError(
                    f"{where}: impute('most_frequent') does not fit column {column.name!r}, a "
                    "number with many values; use impute('mean') or impute('median') (or "
                    "bucketize it first)"
                )
            if strategy == "median" and column.bounds is None:
                raise PlanError(
                    f"{where}: impute('median') on {column.name!r} reads the median off a "
                    "pooled histogram over the column's published bounds, and this lake "
                    "publishes none; use impute('mean'), or ask the owner to publish bounds"
                )
        if (
            column.bounds is not None
            and any(step.name == "log1p" for step in found.steps[:1])
            and column.bounds[0] <= -1
        ):
            raise PlanError(
                f"{where}: log1p() on {column.name!r}, whose published range starts at "
                f"{column.bounds[0]:g}: log(1 + x) is undefined below -1. Clip it first "
                "(clip(..., lower=0)) or drop the transform."
            )

    def _check_privacy_settings(self, where: str, policy: Policy, schema: TableSchema) -> None:
        if self.dp is not None:
            for name in self.dp_bounded_columns:
                if schema.column(name).bounds is None:
                    role = "feature" if name in self.features else "label"
                    raise PlanError(
                        f"{where}: {role} {name!r} has no published bounds; a DP plan needs the "
                        f"owner to publish the range of each {role} it scales "
                        "(add_table(..., bounds={...})). Drop it or ask the owner."
                    )
        if (
            self.task in ("statistics", "evaluation")
            and not self.secure_aggregation
            and not policy.release_per_lake
        ):
            raise PolicyViolation(
                f"{where}: the owner releases this lake's figures only pooled with the other "
                "lakes'; set secure_aggregation=True (or ask the owner for "
                "Policy(release_per_lake=True))."
            )
        if policy.require_secure_aggregation and not self.secure_aggregation:
            raise PolicyViolation(
                f"{where}: the owner requires secure aggregation; set secure_aggregation=True."
            )
        if policy.max_epsilon is not None:
            if self.dp is None:
                raise PolicyViolation(
                    f"{where}: the owner requires differential privacy (at most epsilon "
                    f"{policy.max_epsilon:g}); add dp=collab.DP(epsilon=...) to the plan."
                )
            if self.dp.epsilon > policy.max_epsilon:
                raise PolicyViolation(
                    f"{where}: the plan spends epsilon {self.dp.epsilon:g}; the owner allows at "
                    f"most {policy.max_epsilon:g} per scientist. Lower epsilon."
                )

    @property
    def dp_bounded_columns(self) -> tuple[str, ...]:
        """Columns whose published bounds a DP plan scales by (the numeric features by
        default; one-hot columns lie in 0-1 anyway)."""
        return tuple(c.name for c in self.design.columns if not c.levels)

    def dp_input_bounds(
        self, bounds: Mapping[str, tuple[float, float] | None]
    ) -> list[tuple[float, float]]:
        """The published bounds of every input column of the family's step."""
        published = {f: b for f, b in bounds.items() if f in self.features and b is not None}
        design = Design(
            self.features,
            categories=self.design.categories,
            transforms=self.design.transforms,
            bounds=published,
        )
        return design.output_bounds()

    def dp_standardizer(self, bounds: Mapping[str, tuple[float, float]]) -> Standardizer:
        """A DP plan's scaling from the owners' published ``bounds`` (the same on every lake)."""
        return self.dp_fills(Standardizer.from_bounds(self.dp_input_bounds(bounds)))

    def standardizer_from(self, stats: Update) -> Standardizer:
        """The job's standardisation from the pooled statistics phase: with a design, its
        fitted fills too, and each input column's mean and spread once filled."""
        width = self.n_inputs
        standardizer = Standardizer.from_stats(stats, width)
        if self.design.plain:
            return standardizer
        v = stats.values
        fills, mean, std, errors = self.design.fit(
            stats.rows, v[:width], v[width : 2 * width], v[2 * width : 3 * width], v[3 * width :]
        )
        return replace(standardizer, mean=mean, std=std, fills=fills, fill_errors=errors)

    def dp_fills(self, standardizer: Standardizer) -> Standardizer:
        """A DP plan's scaling with its constant fills (it fits no other)."""
        if self.design.plain:
            return standardizer
        return replace(standardizer, fills=self.design.constant_fills())

    # --- the job's standardisation (hooks of the two sides) ---------------------------
    def preset_standardizer(self) -> Standardizer | None:
        if self.scales_rows:
            return None
        d = len(self.features)
        return Standardizer(mean=np.zeros(d), std=np.ones(d))

    def round_standardizer(self, standardizer: dict[str, Any]) -> dict[str, Any] | None:
        return standardizer if self.dp is None and self.scales_rows else None

    def row_scaling(self, standardizer: Callable[[], Standardizer]) -> Any:
        return self.preprocessing(standardizer()) if self.scales_rows else None

    def model_from(
        self, state: Mapping[str, Any], standardizer: Standardizer, **context: Any
    ) -> Model:
        """:meth:`build_model`, with the design the model applies to raw columns (its
        categories, transforms and fitted fills) when the plan has one."""
        model = self.build_model(state, standardizer, **context)
        if self.design.plain or self.task not in ("classification", "regression"):
            return model
        inputs = {
            **self.design.to_spec(),
            "fills": dict(standardizer.fills),
            "fill_errors": dict(standardizer.fill_errors),
        }
        return replace(model, inputs=inputs)

    def preprocessing(self, standardizer: Standardizer) -> Any:
        """What a lake applies to a block of raw rows before the family's step: the design
        (when the plan has one), then ``standardizer``."""
        if self.design.plain:
            return standardizer
        return Preprocessing(self.design, standardizer)

    # --- display --------------------------------------------------------------------------
    @classmethod
    def settings(cls) -> list[dict[str, Any]]:
        """The family's own settings (beyond table, features, label and privacy): name,
        default and type, as widgets offer them."""
        from ._settings import describe_settings

        return describe_settings(cls)

    def _display_(self) -> tuple[Any, str | None, Any]:
        from .._display import PLAN_MIME, plan_payload, plan_report

        payload = plan_payload(self)
        return plan_report(payload), PLAN_MIME, payload


def register_family(cls: type[Plan]) -> type[Plan]:
    """Make ``cls`` a plan family: plans of it can be sent to, recognised and run by lakes,
    and models it trains saved and read back.

    Raises
    ------
    PlanError
        ``cls`` has no name (``model = '<family name>'``), leaves out a member the contract
        requires (:class:`~collab.plans.LakeStep`, :class:`~collab.plans.Strategy` and a
        base's own, such as :class:`~collab.plans.RoundPlan`'s ``gradient``), or trains a
        model without naming its class (``model_class``).
    """
    name = getattr(cls, "model", None)
    if not isinstance(name, str) or not name:
        raise PlanError(f"{cls.__name__} needs a class attribute model = '<family name>'")
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        raise PlanError(
            f"family {name!r} ({cls.__name__}) leaves out what every family must have: "
            f"{', '.join(missing)}; write them (see collab.plans.LakeStep and Strategy)"
        )
    left_out = undeclared(cls, COMMON)
    if left_out:
        raise PlanError(
            f"family {name!r} ({cls.__name__}) declares no parameter for "
            f"{', '.join(left_out)}; add collab.plans.Param(...) rows to its parameters"
        )
    model_class = cls.model_class
    if model_class is None and cls.task in MODEL_TASKS:
        raise PlanError(
            f"family {name!r} ({cls.__name__}) trains a model but names no model_class; set "
            "model_class = <its collab.plans.Model subclass>"
        )
    if model_class is not None:
        if not (isinstance(model_class, type) and issubclass(model_class, Model)):
            raise PlanError(
                f"family {name!r}: model_class must be a collab.plans.Model subclass, not "
                f"{model_class!r}"
            )
        missing = sorted(getattr(model_class, "__abstractmethods__", ()))
        if missing:
            raise PlanError(
                f"family {name!r}: its model {model_class.__name__} leaves out "
                f"{', '.join(missing)}; write them"
            )
        if not model_class.__dict__.get("family"):  # saved models carry the family's name
            model_class.family = name
    PLAN_FAMILIES[name] = cls
    return cls
