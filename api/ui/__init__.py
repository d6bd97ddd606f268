"""The web UI: server-rendered Tornado templates (`api/templates`) and a little vanilla
JavaScript (`api/static`), served by the api process beside the JSON API and built on
the same application layer. See `api.ui.routes` for the pages."""
