"""`python -m infra install [--test-clients]`: install the native infrastructure (stdlib only,
so it works before Sensr's Python packages are installed)."""

import argparse

from infra.install import install

parser = argparse.ArgumentParser(prog="python -m infra")
parser.add_argument("command", choices=["install"])
parser.add_argument("--test-clients", action="store_true",
                    help="also install the real clients the tests drive (curl, wget, ffmpeg, lftp, chromium)")
args = parser.parse_args()
install(with_test_clients=args.test_clients)
