"""Sensr's front end: users, cameras and their upload logins, frame browsing, images,
live view and sharing, as a JSON API under `/api/v1` (and, on the same services, a web UI).

Layout: the service modules at this level (`users`, `tokens`, `throttle`, `cameras`,
`shares`, `access`, `images`, `live`, `times`) hold the rules and talk to the database,
Kafka and the object store; they know nothing of JSON. `api.v1` turns them into the JSON
API; `api.app` wires everything into one Tornado application.
"""
