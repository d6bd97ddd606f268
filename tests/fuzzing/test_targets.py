"""Coverage-guided fuzzing (atheris) of what parses camera input: the JPEG stream scanner,
the single-JPEG and frame checks, FTP file names and paths (the targets in `fuzzing/`).

Each target runs briefly here under libFuzzer, from its seed corpus, and must find
nothing: no failed check, uncaught exception, timeout or memory blow-up. The inputs
of the bugs it found are replayed, and each bug has a plain test of its own.
bench/fuzz.py is the long run.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fuzzing import REGRESSIONS, SEEDS, TARGETS
from fuzzing.ftp_names import Session
from sensr.frame_check import check_frame, read_frame_shape
from sensr.scanner import JpegError, extract_single_jpeg
from tests.support.fuzz_seeds import SEED_SETS
from tests.support.jpegs import make_jpeg, patch_frame_header

ROOT = Path(__file__).resolve().parents[2]
RUNS = 20_000
MAX_SECONDS = 30
"""Whichever comes first: on a loaded machine a run stops early rather than time out."""
LIBFUZZER_LIMITS = ("-rss_limit_mb=1024", "-timeout=10", "-max_len=8192")


def _inputs(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []


@pytest.mark.parametrize("target", TARGETS)
def test_short_fuzz_run_finds_nothing(target: str, tmp_path: Path) -> None:
    corpus, artifacts = tmp_path / "corpus", tmp_path / "artifacts"
    corpus.mkdir()
    artifacts.mkdir()
    command = [sys.executable, "-m", "fuzzing", target, f"-runs={RUNS}", f"-max_total_time={MAX_SECONDS}",
               *LIBFUZZER_LIMITS, f"-artifact_prefix={artifacts}/", str(corpus), str(SEEDS / target)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Through a shell that forks it: libFuzzer's -rss_limit_mb reads the peak RSS, which a
    # process started straight from pytest inherits from pytest's own (over 1 GiB late in
    # the suite), so the limit would trip at once.
    run = subprocess.run(["bash", "-c", '"$@"; exit $?', "fuzz", *command], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=MAX_SECONDS + 120)
    found = [path.name for path in artifacts.iterdir()]
    assert run.returncode == 0 and not found, f"libFuzzer found {found}:\n{run.stderr[-6000:]}"
    assert "Done " in run.stderr, run.stderr[-3000:]


@pytest.mark.parametrize("target", TARGETS)
def test_seeds_and_regressions_pass(target: str) -> None:
    """Every seed and every input that once found a bug passes its target (no atheris here)."""
    module = importlib.import_module(f"fuzzing.{target}")
    inputs = _inputs(SEEDS / target) + _inputs(REGRESSIONS / target)
    assert inputs
    for path in inputs:
        module.test_one_input(path.read_bytes())


def test_seed_corpora_are_made_from_the_test_jpegs() -> None:
    """fuzzing/seeds/ is what tests/support/fuzz_seeds.py writes (refresh: python -m tests.support.fuzz_seeds)."""
    for target, seeds in SEED_SETS.items():
        assert {path.read_bytes() for path in _inputs(SEEDS / target)} == set(seeds()), target


# -- what it found -----------------------------------------------------------------------------


def _second_frame_header(jpeg: bytes, width: int, height: int) -> bytes:
    """`jpeg` with a copy of its frame header (SOF), declaring another size, right after it."""
    patched = patch_frame_header(jpeg, width=width, height=height)
    start = jpeg.index(b"\xff\xc0")
    end = start + 2 + int.from_bytes(jpeg[start + 2:start + 4], "big")
    return jpeg[:end] + patched[start:end] + jpeg[end:]


def test_a_second_frame_header_is_refused() -> None:
    """Found by the frame_check target: a JPEG with two frame headers passed `check_frame`
    with the first one's size while Pillow reads the last one (here 13000 x 13000), and
    libjpeg refuses to decode it ("duplicate SOF"): the edge answered 200 for a frame the
    catalog worker dead-letters as bad_jpeg."""
    small = make_jpeg(16, 16, content="gradient")
    doubled = _second_frame_header(small, 13000, 13000)
    assert extract_single_jpeg(doubled) == doubled  # the scanner takes it whole
    with pytest.raises(JpegError) as refused:
        check_frame(doubled, 64_000_000)
    assert refused.value.reason == "not_jpeg"


def test_a_frame_header_cut_short_is_a_jpeg_error() -> None:
    """Found by the frame_check target: `read_frame_shape` (so `check_frame`, which the
    catalog worker runs on whatever a record holds) raised IndexError for a frame header
    shorter than its fields."""
    jpeg = make_jpeg(16, 16, content="gradient")
    start = jpeg.index(b"\xff\xc0")
    for cut in (jpeg[:start + 2] + b"\x00\x02" + jpeg[start + 4:], jpeg[:start + 6]):
        with pytest.raises(JpegError) as refused:
            read_frame_shape(cut)
        assert refused.value.reason == "not_jpeg"


def test_renaming_onto_the_root_keeps_paths_whole() -> None:
    """Found by the ftp_names target: ``RNFR /a`` then ``RNTO /`` (pyftpdlib lets it
    through) stored '/a/x.jpg' as '//x.jpg' and the folder itself as '/', so ``LIST /``
    showed an empty name. Renaming onto the root is refused (550) and changes nothing."""
    session = Session()
    session.stor("/a/x.jpg")
    with pytest.raises(OSError):
        session.fs.rename("/a", "/")
    assert session.fs.listdir("/") == ["a"] and session.fs.isfile("/a/x.jpg")
    assert all(path.startswith("/") and not path.startswith("//") and path != "/" for path in session.fs.tree.entries)
