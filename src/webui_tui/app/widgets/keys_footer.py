"""The footer line: the help key first, then as many of the shown keys as fit whole (the
focused widget's, the screen's, the app's, in that order); the command palette key on the
right. Keys that do not fit are left out, never cut: the help screen (F1) lists them all.
"""

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_ACTION = "help"


def key_width(key_display: str, description: str) -> int:
    """Columns a (non-compact) footer key takes: ` key ` then `description `."""
    return len(key_display) + 2 + (len(description) + 1 if description else 0)


class KeysFooter(Footer):
    """A `Footer` that fits its width (see the module docstring)."""

    _composed_width = 0

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        shown: list[tuple[Binding, bool, str]] = []
        actions: set[str] = set()
        # Help first, then the focused widget's and the screen's, then the app's in its order.
        app_order = {
            b.action: index for index, b in enumerate(self.app.BINDINGS) if isinstance(b, Binding)
        }
        order: dict[str, tuple[bool, int]] = {}
        for node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                shown.append((binding, enabled, tooltip))
                rank = app_order.get(binding.action, 0) + 1 if node is self.app else 0
                order[binding.action] = (binding.action != HELP_ACTION, rank)
        shown.sort(key=lambda item: order[item[0].action])  # stable within the screen's
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        width = self.size.width or self.app.size.width
        self._composed_width = width
        used = 0
        if palette is not None:
            # Docked right: a border column, the key, the description, a padding column.
            binding = palette.binding
            used = key_width(self.app.get_key_display(binding), binding.description) + 2
        for binding, enabled, tooltip in shown:
            key_display = self.app.get_key_display(binding)
            needed = key_width(key_display, binding.description)
            if used + needed > width:
                break
            used += needed
            yield FooterKey(
                binding.key,
                key_display,
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if palette is not None:
            _, binding, enabled, tooltip = palette
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and event.size.width != self._composed_width:
            self.call_after_refresh(self.recompose)
