"""The footer of every screen: Textual's, with its keys changed in place.

Textual's Footer rebuilds all its key widgets whenever the screen's bindings are updated
(a focus change, ``refresh_bindings``), often twice for one key press, and each rebuild
mounts and styles a dozen widgets anew. In the session a step move changes the keys, and
that rebuild was the largest part of the move after the list itself. This footer does
nothing when the keys it would show are the ones it shows, and otherwise gives its key
widgets their new key, description and state in place (mounting or removing only the
difference), which draws the same footer: the snapshots and ``tests/test_footer.py`` say so.
"""

from __future__ import annotations

from textual._context import active_message_pump
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeysFooter(Footer):
    """A Footer that changes its keys in place instead of rebuilding them."""

    shown: tuple | None = None

    def compose(self):
        # Footer's keys bound to its ``compact`` (all but the palette's, which keeps its own),
        # each given the footer's value before it is mounted: FooterKey's own default (True)
        # would add "-compact" at mount and the binding take it away again, styling every
        # key twice more for nothing (a tenth of the home's first frame)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                self._compact_from_start(widget)
            yield widget

    def _compact_from_start(self, key: FooterKey) -> None:
        """``key`` as its ``compact`` watcher would leave it, without running the watcher."""
        key.set_reactive(FooterKey.compact, self.compact)
        key.set_class(self.compact, "-compact", update=False)

    def wanted(self) -> list[tuple]:
        """``(binding, enabled, tooltip)`` of each key to show: the first binding of each
        action, in order, as Footer's compose picks them."""
        first: dict[str, tuple] = {}
        for (_, binding, enabled, tooltip) in self.screen.active_bindings.values():
            if binding.show and binding.action not in first:
                first[binding.action] = (binding, enabled, tooltip)
        return list(first.values())

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_later(self._show_keys)  # in the frame of the change that moved them

    async def _show_keys(self) -> None:
        if not self.is_attached or not self.screen.is_attached:
            return
        wanted = self.wanted()
        shown = tuple((b.key, b.description, b.action, enabled, tooltip) for b, enabled, tooltip in wanted)
        if shown == self.shown:
            return
        self.shown = shown
        keys = [key for key in self.query_children(FooterKey) if not key.has_class("-command-palette")]
        others = len(self.children) - len(keys) - len(self.query_children(".-command-palette"))
        if not self.children or others or any(binding.group is not None for binding, _, _ in wanted):
            await self.recompose()  # the first keys, or key groups: Footer's own way
            return
        with self.app.batch_update():
            for widget, (binding, enabled, tooltip) in zip(keys, wanted):
                widget.key = binding.key
                widget.key_display = self.app.get_key_display(binding)
                widget.description = binding.description
                widget.action = binding.action
                widget._disabled = not enabled
                widget.set_class(not enabled, "-disabled")
                widget.tooltip = tooltip or None
                widget.refresh(layout=True)
            if len(keys) > len(wanted):
                await self.remove_children(keys[len(wanted):])
            elif len(wanted) > len(keys):
                palette = self.query_children(".-command-palette")
                binding_to = active_message_pump.set(self)  # data_bind binds to the footer, as in compose
                try:
                    new = [FooterKey(binding.key, self.app.get_key_display(binding), binding.description,
                                     binding.action, disabled=not enabled,
                                     tooltip=tooltip).data_bind(compact=Footer.compact)
                           for binding, enabled, tooltip in wanted[len(keys):]]
                    for key in new:
                        self._compact_from_start(key)
                finally:
                    active_message_pump.reset(binding_to)
                await self.mount_all(new, before=palette.first() if palette else None)
            self.styles.grid_size_columns = len(wanted)
