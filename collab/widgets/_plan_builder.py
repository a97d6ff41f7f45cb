"""Build a training plan by pointing and clicking; ``builder.plan`` is the same
``collab.plans.LogisticRegression`` that code would write, checked by the federation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import _display
from .._display import Report, Section
from .._errors import CollabError, PlanError, PolicyViolation, PrivacyError
from ..plans import Plan
from ..plans._plan import PLAN_FAMILIES
from ..secure import DP
from ._base import View, fragment_html, message_html, report_html
from ._choices import Choices, budget_left, choices

if TYPE_CHECKING:
    from ..scientist import Federation

SETTINGS = (
    "table",
    "label",
    "features",
    "model",
    "rounds",
    "local_epochs",
    "learning_rate",
    "batch_size",
    "l2",
    "secure_aggregation",
    "dp",
)


def _keep(value: Any, options: tuple[str, ...]) -> str | None:
    """``value`` if still offered, else the first option."""
    return value if value in options else (options[0] if options else None)


class PlanBuilder(View):
    """Pick a table, a label and features (only columns every lake's policy allows, never
    private ones), a model, rounds and privacy settings; see each lake's epsilon limit and,
    when the federation reports it, the budget left.

    ``builder.plan`` returns the plan (a ``collab.plans.LogisticRegression``) after checking
    it against every lake's published schema and policy; ``builder.set(...)`` chooses
    settings from code and refuses private or disallowed columns with a message that says
    why.
    """

    css_class = "collab-plan-builder"

    def __init__(self, fed: Federation, *, table: str | None = None) -> None:
        self.fed = fed
        hosted = fed.tables
        common = set.intersection(*(set(v) for v in hosted.values())) if hosted else set()
        tables = sorted(common)
        style = {"description_width": "110px"}
        wide = widgets.Layout(width="420px")
        self.table = widgets.Dropdown(options=tables, description="Table", style=style, layout=wide)
        self.label = widgets.Dropdown(description="Label", style=style, layout=wide)
        self.model = widgets.Dropdown(description="Model", style=style, layout=wide)
        self.features = widgets.SelectMultiple(
            description="Features", rows=10, style=style, layout=wide
        )
        self.select_all = widgets.Button(description="all", layout=widgets.Layout(width="60px"))
        self.select_none = widgets.Button(description="none", layout=widgets.Layout(width="60px"))
        self.withheld = widgets.HTML()
        self.rounds = widgets.IntSlider(
            value=30, min=1, max=500, description="Rounds", style=style, layout=wide
        )
        self.local_epochs = widgets.IntSlider(
            value=1, min=1, max=20, description="Local epochs", style=style, layout=wide
        )
        self.learning_rate = widgets.BoundedFloatText(
            value=0.5, min=1e-4, max=100.0, step=0.05, description="Learning rate", style=style
        )
        self.batch_size = widgets.BoundedIntText(
            value=0,
            min=0,
            max=10**9,
            description="Batch size",
            style=style,
            tooltip="0 uses every row of a lake at once",
        )
        self.l2 = widgets.BoundedFloatText(
            value=0.0, min=0.0, max=1e6, step=0.01, description="L2 penalty", style=style
        )
        self.secure_aggregation = widgets.Checkbox(
            value=True, description="Secure aggregation", style=style, indent=False
        )
        self.dp = widgets.Checkbox(
            value=False, description="Differential privacy", style=style, indent=False
        )
        self.epsilon = widgets.FloatLogSlider(
            value=1.0,
            base=10,
            min=-1,
            max=1,
            step=0.05,
            description="Epsilon",
            style=style,
            layout=wide,
        )
        self.delta = widgets.BoundedFloatText(
            value=1e-5, min=1e-12, max=0.1, step=1e-6, description="Delta", style=style
        )
        self.budget = widgets.HTML()
        self.check_button = widgets.Button(
            description="Check plan", button_style="primary", icon="check"
        )
        self.message = widgets.HTML()
        self.choices: Choices | None = None

        self.select_all.on_click(lambda _: self._select(all_=True))
        self.select_none.on_click(lambda _: self._select(all_=False))
        self.check_button.on_click(lambda _: self._check_clicked())
        self.table.observe(self._table_changed, names="value")
        self.label.observe(self._label_changed, names="value")
        self.dp.observe(self._privacy_changed, names="value")
        for control in (
            self.features,
            self.model,
            self.rounds,
            self.local_epochs,
            self.learning_rate,
            self.batch_size,
            self.l2,
            self.secure_aggregation,
            self.epsilon,
            self.delta,
        ):
            control.observe(self._changed, names="value")

        header = widgets.HTML(
            fragment_html(
                '<div class="collab-header"><span class="collab-kind">Plan builder</span> '
                f'<span class="collab-title">{_display.esc(", ".join(fed.lakes))}</span></div>'
                '<div class="collab-summary">Only columns every lake publishes, none of them '
                "private, and every owner's policy allows are offered.</div>"
            )
        )
        training = widgets.VBox(
            [self.rounds, self.local_epochs, self.learning_rate, self.batch_size, self.l2]
        )
        privacy = widgets.VBox(
            [self.secure_aggregation, self.dp, self.epsilon, self.delta, self.budget]
        )
        super().__init__(
            [
                header,
                self.table,
                self.label,
                widgets.HBox([self.features, widgets.VBox([self.select_all, self.select_none])]),
                self.withheld,
                self.model,
                widgets.HBox([training, privacy]),
                self.check_button,
                self.message,
            ]
        )
        if table is not None and table != self.table.value:
            self.table.value = table  # observed: reads that table's schemas and policies
        else:
            self._table_changed()

    # reading the lakes --------------------------------------------------------------------
    def _table_changed(self, change: Any = None) -> None:
        table = self.table.value
        if table is None:
            self.message.value = message_html("No table is published by every lake.", "error")
            return
        self.choices = found = choices(
            self.fed.table_schemas(table), self.fed.policies(table), PLAN_FAMILIES
        )
        model, label = self.model.value, self.label.value
        self.model.options = found.models  # (ipywidgets 8 clears the value with the options)
        self.model.value = _keep(model, found.models)
        self.label.options = found.labels
        self.label.value = _keep(label, found.labels)
        self.rounds.max = max(found.max_rounds, 1)
        if found.requires_secure_aggregation:
            self.secure_aggregation.value = True
        self.secure_aggregation.disabled = found.requires_secure_aggregation
        if found.requires_dp:
            self.dp.value = True
        self.dp.disabled = found.requires_dp
        self.withheld.value = self._withheld_html(found)
        self._label_changed()
        self._select(all_=True)
        self._privacy_changed()

    @staticmethod
    def _withheld_html(found: Choices) -> str:
        if not found.withheld:
            return ""
        rows = tuple(
            (name, (why, "private" if name in found.private else "differs"))
            for name, why in found.withheld.items()
        )
        section = Section("Not offered", rows, header=("column", "why"), open=False)
        return fragment_html(_display.section_html(section))

    def _label_changed(self, change: Any = None) -> None:
        if self.choices is None:
            return
        offered = tuple(f for f in self.choices.features if f != self.label.value)
        kept = tuple(f for f in self.features.value if f in offered)
        self.features.options = offered
        self.features.value = kept
        self._changed()

    def _select(self, *, all_: bool) -> None:
        self.features.value = tuple(self.features.options) if all_ else ()

    def _privacy_changed(self, change: Any = None) -> None:
        on = bool(self.dp.value)
        self.epsilon.disabled = self.delta.disabled = not on
        if on:  # a DP round is one full-batch step per lake (what the accounting covers)
            self.local_epochs.value, self.batch_size.value = 1, 0
        self.local_epochs.disabled = self.batch_size.disabled = on
        self._changed()

    def budget_section(self) -> Section | None:
        """Each lake's epsilon limit, the budget left when the federation reports it, and
        what this plan would spend."""
        if self.choices is None:
            return None
        left = budget_left(self.fed, self.table.value)
        spend = f"epsilon {self.epsilon.value:.3g}" if self.dp.value else "nothing (no DP)"
        rows = []
        for lake, limit in self.choices.max_epsilon.items():
            remaining = "not reported" if left is None else _display.fmt(left.get(lake))
            rows.append((lake, "none" if limit is None else _display.fmt(limit), remaining))
        return Section(
            "Privacy budget",
            tuple(rows),
            header=("lake", "epsilon limit", "epsilon left"),
            note=f"this plan spends {spend} on every lake",
        )

    def _budget_html(self) -> str:
        section = self.budget_section()
        return "" if section is None else fragment_html(_display.section_html(section))

    # the plan -----------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The chosen settings, as keyword arguments of the plan's class."""
        return {
            "table": self.table.value,
            "features": list(self.features.value),
            "label": self.label.value,
            "rounds": int(self.rounds.value),
            "local_epochs": int(self.local_epochs.value),
            "learning_rate": float(self.learning_rate.value),
            "batch_size": int(self.batch_size.value) or None,
            "l2": float(self.l2.value),
            "secure_aggregation": bool(self.secure_aggregation.value),
            "dp": DP(epsilon=float(self.epsilon.value), delta=float(self.delta.value))
            if self.dp.value
            else None,
        }

    def _build(self) -> Plan:
        family = PLAN_FAMILIES.get(str(self.model.value))
        if family is None:
            raise PolicyViolation("no model family is allowed by every lake's policy")
        plan = family(**self.settings())
        self.fed.check(plan)
        return plan

    def _changed(self, change: Any = None) -> None:
        self.budget.value = self._budget_html()
        try:
            plan = self._build()
        except CollabError as exc:
            self.message.value = message_html(str(exc), "error")
        else:
            self.message.value = message_html(
                f"Ready: {_display.plan_report(_display.plan_payload(plan)).summary}. "
                "Use builder.plan to get it.",
                "ok",
            )

    def _check_clicked(self) -> None:
        try:
            plan = self.plan
        except CollabError:
            return
        self.message.value = report_html(_display.plan_report(_display.plan_payload(plan)))

    @property
    def plan(self) -> Plan:
        """The plan these settings make, checked against every lake (raises if refused)."""
        try:
            return self._build()
        except CollabError as exc:
            self.message.value = message_html(str(exc), "error")
            raise

    def set(self, **settings: Any) -> PlanBuilder:
        """Choose settings from code: ``builder.set(label="malignant", features=[...],
        rounds=20, dp=collab.DP(epsilon=1.0))``. Refuses columns the builder does not offer
        (private, missing on a lake, disallowed by a policy, not numeric) with a message."""
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise TypeError(
                f"PlanBuilder.set() got unknown setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(SETTINGS)}"
            )
        try:
            self._apply(settings)
        except CollabError as exc:
            self.message.value = message_html(str(exc), "error")
            raise
        self._changed()
        return self

    def _apply(self, settings: dict[str, Any]) -> None:
        if "table" in settings:
            table = settings["table"]
            if table not in self.table.options:
                raise PlanError(
                    f"table {table!r} is not published by every lake; choose one of: "
                    f"{', '.join(self.table.options) or 'none'}"
                )
            self.table.value = table
        found = self.choices
        assert found is not None
        if "label" in settings:
            label = settings["label"]
            if label not in found.labels:
                raise self._refusal(label, "label", found)
            self.label.value = label
        if "features" in settings:
            names = settings["features"]
            names = [names] if isinstance(names, str) else list(names)
            for name in names:
                if name not in self.features.options:
                    raise self._refusal(name, "feature", found)
            self.features.value = tuple(names)
        if "model" in settings:
            if settings["model"] not in found.models:
                raise PolicyViolation(
                    f"model {settings['model']!r} is not allowed by every lake; allowed: "
                    f"{', '.join(found.models) or 'none'}"
                )
            self.model.value = settings["model"]
        if "dp" in settings:
            dp = settings["dp"]
            if isinstance(dp, int | float) and not isinstance(dp, bool):
                dp = DP(epsilon=float(dp))
            if dp is None and found.requires_dp:
                raise PolicyViolation("a lake's policy requires differential privacy")
            self.dp.value = dp is not None
            if dp is not None:
                self.epsilon.value, self.delta.value = float(dp.epsilon), float(dp.delta)
        if "secure_aggregation" in settings:
            if not settings["secure_aggregation"] and found.requires_secure_aggregation:
                raise PolicyViolation("a lake's policy requires secure aggregation")
            self.secure_aggregation.value = bool(settings["secure_aggregation"])
        if settings.get("rounds", 1) > self.rounds.max:
            raise PolicyViolation(
                f"{settings['rounds']} rounds is more than a lake allows ({self.rounds.max})"
            )
        for name in ("rounds", "local_epochs", "learning_rate", "l2"):
            if name in settings:
                getattr(self, name).value = settings[name]
        if "batch_size" in settings:
            self.batch_size.value = settings["batch_size"] or 0

    def _refusal(self, name: str, role: str, found: Choices) -> CollabError:
        offered = found.labels if role == "label" else tuple(self.features.options)
        choose = f"Choose from: {', '.join(offered) or 'none'}."
        why = found.withheld.get(name)
        if name in found.private:
            return PrivacyError(
                f"column {name!r} is {why}: no plan may use it, as {role} or otherwise. {choose}"
            )
        if why is not None:
            return PolicyViolation(f"column {name!r} cannot be a {role}: {why}. {choose}")
        if role == "label" and name in found.features:
            return PlanError(
                f"column {name!r} is not binary (0/1), so it cannot be the label. {choose}"
            )
        if role == "feature" and name == self.label.value:
            return PlanError(f"column {name!r} is the label; it cannot also be a feature.")
        return PlanError(f"table {self.table.value!r} has no column {name!r}. {choose}")

    def snapshot(self) -> Report:
        try:
            plan = self._build()
        except CollabError as exc:
            return Report("Plan builder", str(self.table.value), ("not ready", "failed"), str(exc))
        report = _display.plan_report(_display.plan_payload(plan))
        budget = self.budget_section()
        sections = report.sections if budget is None else (*report.sections, budget)
        return Report("Plan builder", report.title, ("ready", "ok"), report.summary, None, sections)
