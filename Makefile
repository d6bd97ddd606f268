# Sensr's front door for developers. `make test` is the one command that runs the whole
# test suite on a fresh machine: it installs what is missing first, then runs pytest.
PYTHON ?= python3

.PHONY: install test run bench

install:  ## Python packages, Debian packages (PostgreSQL, curl, wget, ffmpeg, lftp, chromium), Kafka jars, SeaweedFS
	$(PYTHON) -m pip install --progress-bar on -e '.[test]'
	$(PYTHON) -m infra install --test-clients

test: install
	$(PYTHON) -m pytest

run:
	$(PYTHON) -m pip install -e '.[native]'
	sensr run
