"""Tornado UI modules: pieces of page that several templates draw the same way."""

from __future__ import annotations

import tornado.web


class ActionButton(tornado.web.UIModule):
    """A one-button form that POSTs to `url` (with the XSRF field): delete, revoke, cancel,
    send a test. With `confirm`, the page asks first (`data-confirm`, see static/app.js)."""

    def render(self, url: str, label: str, *, style: str = "danger", confirm: str | None = None) -> bytes:
        return self.render_string("action_button.html", url=url, label=label, style=style, confirm=confirm)
