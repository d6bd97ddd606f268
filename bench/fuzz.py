"""Long coverage-guided fuzzing run of the JPEG stream scanner (or another target in
`fuzzing/`): millions of inputs under atheris/libFuzzer, none crashing, hanging or
growing memory.

Runs ``python -m fuzzing TARGET`` in one process (niced) over a corpus folder that
persists between runs, so coverage accumulates (the committed seeds are read as a
second corpus). Reports executions, exec/s, resident memory when the corpus was loaded
and at the end (libFuzzer's own figures), coverage (edges, features) and what was
found; writes bench/results/fuzz_<target>.json. Goal: every run done, nothing found,
resident memory grown by at most --rss-growth-mb.

    python bench/fuzz.py [--target scanner] [--runs 10000000] [--max-seconds S] [--corpus DIR] [--max-len 1536]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from scanner_throughput import machine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

from fuzzing import SEEDS, TARGETS

# "#1048576 pulse  cov: 136 ft: 822 corp: 184/1223Kb lim: 2048 exec/s: 3000 rss: 58Mb"
_STATUS = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/\S+ .*?exec/s: (\d+) rss: (\d+)Mb")
_FINAL = re.compile(r"^stat::(\w+):\s+(\d+)")


@dataclass
class Status:
    executions: int
    event: str
    edges: int
    features: int
    corpus: int
    exec_per_s: int
    rss_mb: int


def parse_status(line: str) -> Status | None:
    found = _STATUS.match(line)
    if found is None:
        return None
    numbers = [int(group) for group in found.groups()[2:]]
    return Status(int(found.group(1)), found.group(2), *numbers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=TARGETS, default="scanner")
    parser.add_argument("--runs", type=int, default=10_000_000, help="inputs to run (default 10,000,000)")
    parser.add_argument("--corpus", type=Path, help="corpus folder, kept (default bench/results/fuzz_corpus/TARGET)")
    parser.add_argument("--max-seconds", type=int, help="stop after this long, before all runs (goal then not met)")
    parser.add_argument("--max-len", type=int, default=1536, help="longest input in bytes (default 1536)")
    parser.add_argument("--rss-limit-mb", type=int, default=2048, help="libFuzzer stops past this (default 2048)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take (default 10)")
    parser.add_argument("--rss-growth-mb", type=int, default=64, help="goal: at most this growth (default 64)")
    args = parser.parse_args()

    corpus = args.corpus or RESULTS / "fuzz_corpus" / args.target
    artifacts = RESULTS / "fuzz_artifacts" / args.target
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    before = {path.name for path in artifacts.iterdir()}
    log_path = RESULTS / f"fuzz_{args.target}.log"
    command = ["nice", sys.executable, "-m", "fuzzing", args.target, f"-runs={args.runs}",
               f"-max_len={args.max_len}", f"-rss_limit_mb={args.rss_limit_mb}", f"-timeout={args.timeout}",
               "-print_final_stats=1", f"-artifact_prefix={artifacts}/", str(corpus), str(SEEDS / args.target)]
    if args.max_seconds:
        command.insert(-2, f"-max_total_time={args.max_seconds}")
    print(machine())
    print(f"corpus: {corpus} ({sum(1 for _ in corpus.iterdir())} inputs before); log: {log_path}")

    started = time.monotonic()
    inited: Status | None = None
    last: Status | None = None
    final: dict[str, int] = {}
    with log_path.open("w") as log, subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log,
            stderr=subprocess.PIPE, text=True, errors="replace") as fuzzer:
        assert fuzzer.stderr is not None
        for line in fuzzer.stderr:
            log.write(line)
            status = parse_status(line)
            if status is not None:
                last = status
                if status.event == "INITED":
                    inited = status
                if status.event in ("INITED", "pulse", "DONE"):
                    print(f"  #{status.executions:,} {status.event}: edges {status.edges}, features "
                          f"{status.features}, corpus {status.corpus}, {status.exec_per_s}/s, rss {status.rss_mb} MB",
                          flush=True)
            elif (stat := _FINAL.match(line)) is not None:
                final[stat.group(1)] = int(stat.group(2))
    seconds = time.monotonic() - started

    found = sorted({path.name for path in artifacts.iterdir()} - before)
    executions = final.get("number_of_executed_units", last.executions if last else 0)
    report = {
        "target": args.target, "machine": machine().removeprefix("machine: "), "command": " ".join(command[1:]),
        "exit_status": fuzzer.returncode, "executions": executions, "seconds": round(seconds),
        "exec_per_s": round(executions / seconds) if seconds else 0,
        "rss_mb_at_start": inited.rss_mb if inited else None, "rss_mb_at_end": last.rss_mb if last else None,
        "peak_rss_mb": final.get("peak_rss_mb"), "first": asdict(inited) if inited else None,
        "last": asdict(last) if last else None, "new_inputs": final.get("new_units_added"),
        "found": [str(artifacts / name) for name in found],
    }
    growth = (report["peak_rss_mb"] or 0) - (report["rss_mb_at_start"] or 0)
    met = fuzzer.returncode == 0 and not found and executions >= args.runs and growth <= args.rss_growth_mb
    report["goal_met"] = met
    (RESULTS / f"fuzz_{args.target}.json").write_text(json.dumps(report, indent=2) + "\n")

    print(f"{executions:,} inputs in {seconds:,.0f} s ({report['exec_per_s']:,}/s); resident memory "
          f"{report['rss_mb_at_start']} MB after loading the corpus, {report['rss_mb_at_end']} MB at the end, "
          f"peak {report['peak_rss_mb']} MB; coverage {last.edges if last else 0} edges, "
          f"{last.features if last else 0} features; corpus {last.corpus if last else 0} inputs")
    print(f"found: {', '.join(report['found']) or 'nothing'}; exit status {fuzzer.returncode}")
    print(f"goal (all {args.runs:,} inputs, nothing found, memory growth <= {args.rss_growth_mb} MB): "
          f"{'MET' if met else 'NOT MET'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
