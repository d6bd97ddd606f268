"""Sensr's front end: users, cameras and their upload logins, frame browsing, images,
live view and sharing, as a JSON API under `/api/v1` and a web UI.

Layout: the two surfaces are siblings over one application layer, and neither imports
the other (`tests/api/test_surfaces.py`).
- The services at this level (`users`, `tokens`, `cameras`, `shares`, `access`, `images`,
  `live`, `times`, built once in `services`) hold the rules and talk to the database,
  Kafka and the object store; they know nothing of HTTP.
- The application layer: `callers` (who makes a request: bearer token, session cookie,
  share link), `login` (the login flow and its throttle), `sessions` (the browser's
  login cookie), `handlers` (the bases of every handler), `media` (images, thumbnails
  and the live view, for both surfaces).
- `api.v1` turns them into the JSON API, `api.ui` into web pages; `api.app` puts both
  route tables into one Tornado application.
"""
