"""ingest_ftp: the FTP upload host for netcams (pyftpdlib).

An authorizer over the camera-login table (`authorizer`), an in-memory file system that
never touches the disk (`filesystem`), a handler with a few hooks that defers `226` until
Kafka has acknowledged the frame (`handler`), and the Kafka side (`publisher`). Run it
with `python -m ingest_ftp`.
"""
