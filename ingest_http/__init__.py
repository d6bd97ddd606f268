"""ingest_http: the HTTP edge where cameras upload, as the seed documents it.

* `POST`/`PUT /photo/<camera>`: one JPEG, answered 200 once Kafka acknowledged it.
* `POST /upload/<camera>`: an MJPEG stream, split into frames and published as it arrives.
* `/healthz`, `/readyz`, `/metrics` on the same port.

Modules: `app` (routes, access log), `upload` (login check and refusals shared by both
endpoints), `photo`, `stream`, `auth` (Basic credentials to status codes, a login held by an
open upload), `logins` (open uploads told when their camera's record changes), `throttle`
(failed-login slow-down), `idle` (silence timeout), `publisher` (frames to Kafka, acks
back), `metrics`, `service` (wiring), `__main__`.
"""
