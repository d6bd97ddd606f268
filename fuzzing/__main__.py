"""Run one fuzz target under atheris: ``python -m fuzzing TARGET [libFuzzer args ...]``.

The remaining arguments go to libFuzzer as they are: options (``-runs=``,
``-max_total_time=``, ``-rss_limit_mb=``, ``-timeout=``, ``-max_len=``,
``-artifact_prefix=``...) and corpus folders (new inputs go into the first); the
target's dictionary (`fuzzing.TARGETS`) is added unless ``-dict=`` is given. A crash, an
uncaught exception, a timeout or running out of memory ends the run with a non-zero
exit status and the input saved as ``crash-*``, ``timeout-*`` or ``oom-*``.
"""

from __future__ import annotations

import importlib
import logging
import sys

import atheris
import structlog

from fuzzing import HERE, INSTRUMENTED, TARGETS


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: python -m fuzzing {{{','.join(TARGETS)}}} [libFuzzer options] [corpus dirs]")
    target = sys.argv[1]
    # Millions of inputs: the code under test must not log each one.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    with atheris.instrument_imports(include=list(INSTRUMENTED)):
        module = importlib.import_module(f"fuzzing.{target}")
    options = sys.argv[2:]
    if not any(option.startswith("-dict=") for option in options):
        options.insert(0, f"-dict={HERE / 'dicts' / TARGETS[target]}")
    atheris.Setup([sys.argv[0], *options], module.test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
