"""Build a training plan by pointing and clicking; ``builder.plan`` is the same
plan (of the chosen ``collab.plans`` family) that code would write, checked by the federation.

The families offered are those every lake's policy allows (``collab.plans.families()``); the
settings box is built from the chosen family's own description of its settings
(``Plan.settings()``), so a family registered with ``collab.plans.register_family`` gets its
controls without any change here. Features may be numeric, binary, boolean or categorical
columns (each named with its kind); the transforms editor adds :mod:`collab.features`
transforms, offering each only for the features whose kind it fits.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .. import _display, plans
from .._display import Report, Section
from .._errors import CollabError, PlanError, PolicyViolation, PrivacyError
from ..secure import DP
from ._base import View, fragment_html, message_html, report_html
from ._choices import Choices, budget_left, choices
from ._controls import SettingControl
from ._transform_list import TransformList
from ._transforms_editor import TransformsEditor

if TYPE_CHECKING:
    from ..plans import Plan
    from ..scientist import Federation

# What every plan has, whatever its family; the family's own settings come from its class.
COMMON = ("table", "model", "label", "features", "transforms", "secure_aggregation", "dp")
# Settings of every family the builder fills itself (the transforms from its editor; the
# encoding is filled in from the owners' schemas when the plan is sent): no box for them.
MANAGED = ("transforms", "encoding")


def _keep(value: Any, options: tuple[str, ...]) -> str | None:
    """``value`` if still offered, else the first option."""
    return value if value in options else (options[0] if options else None)


def _summary(family: type[Plan]) -> str:
    doc = inspect.getdoc(family) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").replace("``", "")


class PlanBuilder(View):
    """Pick a table, a model family (those every lake's policy allows), a label and features
    (only columns every lake's policy allows, never private ones; categorical columns with
    their number of categories), transforms of the features, the family's own settings and
    privacy settings; see each lake's epsilon limit and, when the federation reports it, the
    budget left.

    ``builder.plan`` returns the plan (of the family chosen in ``Model``) after checking
    it against every lake's published schema and policy; ``builder.set(...)`` chooses
    settings from code (``model=`` and any setting of that family) and refuses private or
    disallowed columns with a message that says why. ``builder.controls`` holds the
    family's settings controls by name; ``builder.transforms`` is the transforms editor
    (``builder.transforms.model`` its list; ``builder.set(transforms=[...])`` sets the list
    from code).
    """

    css_class = "collab-plan-builder"

    def __init__(self, fed: Federation, *, table: str | None = None) -> None:
        self.fed = fed
        self.families = plans.families()
        hosted = fed.tables
        common = set.intersection(*(set(v) for v in hosted.values())) if hosted else set()
        tables = sorted(common)
        self._style = style = {"description_width": "110px"}
        wide = widgets.Layout(width="420px")
        self.table = widgets.Dropdown(options=tables, description="Table", style=style, layout=wide)
        self.model = widgets.Dropdown(description="Model", style=style, layout=wide)
        self.family_note = widgets.HTML()
        self.label = widgets.Dropdown(description="Label", style=style, layout=wide)
        self.features = widgets.SelectMultiple(
            description="Features", rows=10, style=style, layout=wide
        )
        self.select_all = widgets.Button(description="all", layout=widgets.Layout(width="60px"))
        self.select_none = widgets.Button(description="none", layout=widgets.Layout(width="60px"))
        self.withheld = widgets.HTML()
        self.transforms = TransformsEditor(
            TransformList(), lambda: self._changed(), style=style, width="420px"
        )
        self.controls: dict[str, SettingControl] = {}
        self.settings_box = widgets.VBox()
        self.settings_box.add_class("collab-plan-settings")
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
        self._family_name: str | None = None  # the family the settings box was built for
        self._holding = 0  # > 0 while several controls change at once
        self._settling = 0  # > 0 while the features list passes through a changed list

        self.select_all.on_click(lambda _: self._select(all_=True))
        self.select_none.on_click(lambda _: self._select(all_=False))
        self.check_button.on_click(lambda _: self._check_clicked())
        self.table.observe(self._table_changed, names="value")
        self.model.observe(self._model_changed, names="value")
        self.label.observe(self._label_changed, names="value")
        self.features.observe(self._features_changed, names="value")
        self.dp.observe(self._privacy_changed, names="value")
        for control in (self.secure_aggregation, self.epsilon, self.delta):
            control.observe(self._changed, names="value")

        header = widgets.HTML(
            fragment_html(
                '<div class="collab-header"><span class="collab-kind">Plan builder</span> '
                f'<span class="collab-title">{_display.esc(", ".join(fed.lakes))}</span></div>'
                '<div class="collab-summary">Only model families every lake allows, and '
                "columns every lake publishes, none of them private, and every owner's policy "
                "allows are offered.</div>"
            )
        )
        privacy = widgets.VBox(
            [self.secure_aggregation, self.dp, self.epsilon, self.delta, self.budget]
        )
        super().__init__(
            [
                header,
                self.table,
                self.model,
                self.family_note,
                self.label,
                widgets.HBox([self.features, widgets.VBox([self.select_all, self.select_none])]),
                self.withheld,
                self.transforms,
                widgets.HBox([self.settings_box, privacy]),
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
        self._holding += 1
        try:
            self.families = plans.families()  # (including any registered since)
            self.choices = found = choices(
                self.fed.table_schemas(table), self.fed.policies(table), self.families
            )
            self.transforms.model.reset(found)
            model = self.model.value
            self._family_name = None  # rebuilt: this table's policies bound the rounds
            self.model.options = [(f"{m} ({found.tasks[m]})", m) for m in found.models]
            self.model.value = _keep(model, found.models)  # (options cleared the value)
            self._build_settings()
            if found.requires_secure_aggregation:
                self.secure_aggregation.value = True
            self.secure_aggregation.disabled = found.requires_secure_aggregation
            if found.requires_dp:
                self.dp.value = True
            self.dp.disabled = found.requires_dp
            self.withheld.value = self._withheld_html(found)
            self._offer_labels()
            self._select(all_=True)
            self._privacy_changed()
        finally:
            self._holding -= 1
        self._changed()

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

    # the family ---------------------------------------------------------------------------
    @property
    def family(self) -> type[Plan] | None:
        """The plan class of the chosen model family."""
        return self.families.get(str(self.model.value))

    def _model_changed(self, change: Any = None) -> None:
        if self.model.value is None or self.model.value == self._family_name:
            return  # (a Dropdown passes through None while its options change)
        self._holding += 1
        try:
            self._build_settings()
            self._offer_labels()
            self._privacy_changed()
        finally:
            self._holding -= 1
        self._changed()

    def _build_settings(self) -> None:
        """The settings box of the chosen family, from ``family.settings()``. Settings the
        previous family also had keep a value that was changed from its default."""
        family = self.family
        name = None if family is None else str(self.model.value)
        if name == self._family_name:
            return
        kept: dict[str, Any] = {}
        for old in self.controls.values():
            if old.changed:
                try:
                    kept[old.name] = old.value
                except PlanError:
                    pass
        found = self.choices
        # the ranges the lakes' policies allow (a slider up to the lowest limit)
        limits = found.limits.get(name or "", {}) if found is not None else {}
        table = {} if family is None else plans.parameters_of(family)
        self.controls = {}
        for setting in [] if family is None else family.settings():
            if setting["name"] in MANAGED or setting["kind"] == "mapping":
                continue
            control = SettingControl(
                setting,
                style=self._style,
                width="420px",
                bounds=limits.get(setting["name"]),
                check=table[setting["name"]].check,
            )
            if control.name in kept:
                try:
                    control.set(kept[control.name])
                except CollabError:
                    pass
            control.widget.observe(self._changed, names="value")
            self.controls[control.name] = control
        self.settings_box.children = [c.widget for c in self.controls.values()]
        self._family_name = name
        self.family_note.value = "" if family is None else self._family_html(family)

    @staticmethod
    def _family_html(family: type[Plan]) -> str:
        metrics = ", ".join(family.history_metrics)
        return fragment_html(
            f'<div class="collab-summary">{_display.esc(_summary(family))} '
            f"<i>{_display.esc(family.task)}; each round reports {_display.esc(metrics)}"
            "</i></div>"
        )

    def _offer_labels(self) -> None:
        """The labels the chosen family can learn (keeping the chosen one if it still can)."""
        if self.choices is None:
            return
        found = self.choices
        offered = found.labels_for(self.model.value)
        label = _keep(self.label.value, offered)
        self.label.options = [(found.describe(name), name) for name in offered]
        self.label.value = label
        self._label_changed()

    # columns ------------------------------------------------------------------------------
    def _label_changed(self, change: Any = None) -> None:
        if self.choices is None:
            return
        found = self.choices
        offered = tuple(f for f in found.features if f != self.label.value)
        chosen = set(self.features.value)
        old = change["old"] if change is not None else None
        if self.label.value in chosen and old in offered:
            chosen.add(old)  # the new label was a feature: the old label takes its place
        kept = tuple(f for f in offered if f in chosen)
        self._settling += 1
        try:
            self.features.options = [(found.describe(name), name) for name in offered]
            self.features.value = kept
        finally:
            self._settling -= 1
        self._features_changed()

    @property
    def offered_features(self) -> tuple[str, ...]:
        """The columns the features list offers now (every one but the label)."""
        return tuple(value for _, value in self.features.options)

    def _select(self, *, all_: bool) -> None:
        self.features.value = self.offered_features if all_ else ()

    def _features_changed(self, change: Any = None) -> None:
        """The transforms follow the chosen features (a column no longer chosen leaves
        them)."""
        if self._settling:
            return
        self.transforms.model.follow(self.features.value)
        self.transforms.refresh()
        self._changed()

    def _privacy_changed(self, change: Any = None) -> None:
        on = bool(self.dp.value)
        self.epsilon.disabled = self.delta.disabled = not on
        for control in self.controls.values():
            if control.with_dp is None:
                continue  # a setting DP leaves free
            if on:
                control.set(control.with_dp["value"])
            control.widget.disabled = on
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
            if left is None or lake not in left:
                remaining = "not reported"
            elif left[lake] is None:
                remaining = "no limit"
            else:
                remaining = _display.fmt(left[lake])
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
        """The chosen settings, as keyword arguments of the plan's class (raises
        :class:`PlanError` when a box holds something that is not a value)."""
        return {
            "table": self.table.value,
            "features": list(self.features.value),
            "label": self.label.value,
            "transforms": list(self.transforms.model.transforms),
            **{name: control.value for name, control in self.controls.items()},
            "secure_aggregation": bool(self.secure_aggregation.value),
            "dp": DP(epsilon=float(self.epsilon.value), delta=float(self.delta.value))
            if self.dp.value
            else None,
        }

    def _build(self) -> Plan:
        family = self.family
        if family is None:
            raise PolicyViolation("no model family is allowed by every lake's policy")
        plan = family(**self.settings())
        self.fed.check(plan)
        return plan

    def _changed(self, change: Any = None) -> None:
        if self._holding:
            return
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
        rounds=20, dp=collab.DP(epsilon=1.0))``, or another family and its own settings:
        ``builder.set(model=name, label="age", ...)`` with ``name`` one of
        ``collab.plans.families()``. Refuses columns
        the builder does not offer (private, missing on a lake, disallowed by a policy, not a
        label the family can learn) with a message."""
        try:
            self._holding += 1
            try:
                self._apply(settings)
            finally:
                self._holding -= 1
        except CollabError as exc:
            self._changed()
            self.message.value = message_html(str(exc), "error")
            raise
        self._changed()
        return self

    def _known(self, model: Any) -> tuple[str, ...]:
        family = self.families.get(str(model))
        own = [] if family is None else [s["name"] for s in family.settings()]
        return (*COMMON, *(name for name in own if name not in MANAGED))

    def _apply(self, settings: dict[str, Any]) -> None:
        model = settings.get("model", self.model.value)
        if "model" in settings and model not in self.families:
            raise PlanError(
                f"model {model!r} is not a model family; installed: {', '.join(self.families)}"
            )
        known = self._known(model)
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise TypeError(
                f"PlanBuilder.set() got unknown setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(known)}"
            )
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
        for name, control in self.controls.items():
            if name in settings:
                control.set(settings[name])
        if "label" in settings:
            label = settings["label"]
            if label not in found.labels_for(self.model.value):
                raise self._refusal(label, "label", found)
            self.label.value = label
        if "features" in settings:
            names = settings["features"]
            names = [names] if isinstance(names, str) else list(names)
            for name in names:
                if name not in self.offered_features:
                    raise self._refusal(name, "feature", found)
            self.features.value = tuple(names)
        if "transforms" in settings:
            self.transforms.model.replace(settings["transforms"])
            self.transforms.refresh()

    def _refusal(self, name: str, role: str, found: Choices) -> CollabError:
        model = str(self.model.value)
        offered = found.labels_for(model) if role == "label" else self.offered_features
        choose = f"Choose from: {', '.join(offered) or 'none'}."
        why = found.withheld.get(name)
        if name in found.private:
            return PrivacyError(
                f"column {name!r} is {why}: no plan may use it, as {role} or otherwise. {choose}"
            )
        if why is not None:
            return PolicyViolation(f"column {name!r} cannot be a {role}: {why}. {choose}")
        if role == "label" and name in found.labels:
            others = [m for m in found.models if name in found.labels_for(m)]
            return PlanError(
                f"column {name!r} is not a label {model} can learn; "
                f"{', '.join(others)} can (set model=...). {choose}"
            )
        if role == "label" and name in found.features:
            needs = (
                "a numeric column"
                if found.tasks.get(model) == "regression"
                else "a binary (0/1) or boolean column, or one whose categories every owner "
                "publishes (two of them for a classifier of two classes)"
            )
            return PlanError(
                f"column {name!r} cannot be the label of {model}, which needs {needs}. {choose}"
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
        transforms = self.transforms.model.rows()
        if transforms:
            listed = tuple((str(i), text) for i, text in enumerate(transforms, 1))
            sections = (*sections, Section("Transforms", listed))
        return Report("Plan builder", report.title, ("ready", "ok"), report.summary, None, sections)
