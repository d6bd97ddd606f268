"""API v1: the JSON API under `/api/v1`. `routes` is the table of paths and handlers,
`openapi` the document that describes them, `models` the request and response bodies;
the other modules are the handlers, grouped by resource (images, thumbnails and the
live view are `api.media`'s, routed here and by the web UI alike)."""
