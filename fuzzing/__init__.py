"""Coverage-guided fuzz targets (atheris, libFuzzer) for the code that parses what
cameras send: the JPEG stream scanner, the single-JPEG and frame checks, and FTP file
names and paths.

Each target module has `test_one_input(data: bytes)`, which returns or raises
AssertionError (or whatever escapes the code under test) for libFuzzer to report. They
are plain Python, so tests can run saved inputs through them directly; `python -m
fuzzing TARGET [libFuzzer options] [CORPUS_DIR ...]` runs one under atheris with the
code under test instrumented. The test suite runs each briefly
(tests/fuzzing/test_targets.py), bench/fuzz.py runs the scanner for millions of inputs.

`seeds/<target>/` holds the seed corpora (written by ``python -m tests.support.fuzz_seeds`` from
the JPEGs of tests/support/jpegs.py and real camera file names); `regressions/<target>/` the
inputs of bugs found, which the tests replay.

Not shipped: a development tool beside `tests/` and `bench/`, which both import it.
"""

from __future__ import annotations

from pathlib import Path

TARGETS = {"scanner": "jpeg.dict", "frame_check": "jpeg.dict", "ftp_names": "ftp_names.dict"}
"""Module names in this package (each fuzzes the code its docstring names) and the
libFuzzer dictionary in `dicts/` that helps mutations find its syntax."""

INSTRUMENTED = ("sensr", "ingest_ftp", "catalog_worker")
"""The packages whose code atheris instruments for coverage (the code under test)."""

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"
REGRESSIONS = HERE / "regressions"
