"""The plan builder's transforms editor: choose a transform, its columns and settings, add it,
see the list, remove from it. A view over a :class:`TransformList`, which decides what is
offered and reads the settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from .. import _display
from .._errors import CollabError
from ._base import fragment_html, message_html
from ._choices import IMPUTE_STRATEGIES, TRANSFORMS
from ._transform_list import TITLES, TransformList, describe

SETTING_BOXES = ("strategy", "lower", "upper", "edges", "fill_value")


class TransformRow(widgets.HBox):
    """One transform of the list, as code writes it, with its remove button."""

    def __init__(self, text: str, on_remove: Callable[[], None]) -> None:
        self.text = widgets.HTML(fragment_html(f"<code>{_display.esc(text)}</code>"))
        self.remove = widgets.Button(
            description="remove", icon="trash", layout=widgets.Layout(width="90px")
        )
        self.remove.on_click(lambda _: on_remove())
        super().__init__([self.remove, self.text])
        self.add_class("collab-transform-row")


class TransformsEditor(widgets.VBox):
    """Transforms for the chosen features: only the columns a transform fits are offered
    for it (by their kind); ``on_change`` is called whenever the list changes."""

    def __init__(
        self,
        model: TransformList,
        on_change: Callable[[], None],
        *,
        style: Mapping[str, str] | None = None,
        width: str = "420px",
    ) -> None:
        self.model = model
        self._on_change = on_change
        options: dict[str, Any] = {"style": dict(style or {})}

        def wide() -> widgets.Layout:  # one each: a box is hidden through its own layout
            return widgets.Layout(width=width)

        self.transform = widgets.Dropdown(
            options=[(TITLES[t], t) for t in TRANSFORMS],
            description="Transform",
            layout=wide(),
            **options,
        )
        self.strategy = widgets.Dropdown(
            options=IMPUTE_STRATEGIES, description="Strategy", layout=wide(), **options
        )
        self.columns = widgets.SelectMultiple(
            description="Columns", rows=5, layout=wide(), **options
        )
        self.lower = widgets.Text(
            description="Lower", placeholder="a number; empty: no lower limit", **options
        )
        self.upper = widgets.Text(
            description="Upper", placeholder="a number; empty: no upper limit", **options
        )
        self.edges = widgets.Text(
            description="Edges", placeholder="increasing numbers, comma-separated", **options
        )
        self.fill_value = widgets.Text(
            description="Fill value", placeholder="a number, or one of the categories", **options
        )
        self.add_button = widgets.Button(description="Add transform", icon="plus")
        self.note = widgets.HTML()
        self.message = widgets.HTML()
        self.listed = widgets.VBox()
        self.rows: list[TransformRow] = []
        self.transform.observe(lambda _: self.refresh(), names="value")
        self.strategy.observe(lambda _: self.refresh(), names="value")
        self.add_button.on_click(lambda _: self._add_clicked())
        header = widgets.HTML(
            fragment_html(
                '<div class="collab-header"><span class="collab-kind">Transforms</span></div>'
                '<div class="collab-summary">Applied to the features in each lake before the '
                "model's step, and kept in the model; categorical features are one-hot "
                "encoded with their published categories without asking.</div>"
            )
        )
        super().__init__(
            [
                header,
                self.transform,
                self.strategy,
                self.columns,
                self.lower,
                self.upper,
                self.edges,
                self.fill_value,
                self.note,
                self.add_button,
                self.message,
                self.listed,
            ]
        )
        self.add_class("collab-transforms")
        self.refresh()

    def refresh(self) -> None:
        """Show what the model offers for the chosen transform, and the list."""
        transform, strategy = self.transform.value, self.strategy.value
        choices = self.model.choices
        offered = self.model.offered(transform, strategy)
        chosen = [c for c in self.columns.value if c in offered]
        self.columns.options = [(c if choices is None else choices.describe(c), c) for c in offered]
        self.columns.value = tuple(chosen)
        shown = self.model.settings_of(transform, strategy)
        for name in SETTING_BOXES:
            box = getattr(self, name)
            box.layout.display = "" if name in shown else "none"
        self.note.value = fragment_html(
            f'<div class="collab-note">{_display.esc(self.model.note(transform, strategy))}</div>'
        )
        self.add_button.disabled = not offered
        self.rows = [
            TransformRow(text, lambda i=i: self._remove_clicked(i))
            for i, text in enumerate(self.model.rows())
        ]
        self.listed.children = self.rows

    def _add_clicked(self) -> None:
        try:
            added = self.model.add(
                self.transform.value,
                self.columns.value,
                strategy=self.strategy.value,
                lower=self.lower.value,
                upper=self.upper.value,
                edges=self.edges.value,
                fill_value=self.fill_value.value,
            )
        except CollabError as exc:
            self.message.value = message_html(str(exc), "error")
            return
        self.message.value = message_html(f"Added {describe(added)}.", "ok")
        self.columns.value = ()
        self.refresh()
        self._on_change()

    def _remove_clicked(self, index: int) -> None:
        removed = self.model.rows()[index]
        self.model.remove(index)
        self.message.value = message_html(f"Removed {removed}.", "info")
        self.refresh()
        self._on_change()
