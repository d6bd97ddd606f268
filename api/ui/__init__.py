"""The web UI: server-rendered Tornado templates (`api/templates`) and a little vanilla
JavaScript (`api/static`), served by the api process beside the JSON API and built on
the same services. See `api.ui.routes` for the pages."""

from api.ui.routes import ui_handlers, ui_settings

__all__ = ["ui_handlers", "ui_settings"]
