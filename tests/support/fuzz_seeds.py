"""The seed corpora of the fuzz targets (fuzzing/seeds/<target>/), made from the real
JPEGs of tests/support/jpegs.py and real camera file names and FTP sessions.

Kept in the repository (bench/fuzz.py may not import tests/); rewrite them after
changing what they are made of with ``python -m tests.support.fuzz_seeds``.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from fuzzing import SEEDS
from fuzzing.scanner import encode_input
from tests.support.jpegs import hostile_frames, make_jpeg, mpf_file, mpf_files, mpjpeg_stream, sample_frames

CAMERA_NAMES = (
    "SensrCam2010102011073001.jpg",
    "Cam_00_20261124101530.jpg",
    "192.168.1.64_01_20261124101530123_MOTION_DETECTION.jpg",
    "2026-11-24_10-15-30.jpg",
    "snap_20261124_101530.jpg",
    "2026-11-24/10-15-30.jpg",
    "2026-11-24/001/jpg/10/15/30[M][0@0][0].jpg",
    "MDAlarm_20261124-101530.jpg",
    "image20261124_101530.jpg.part",
    "IPC_IPCamera_ch1_20261124101530.JPG.tmp",
    "imagenew.jpg",
)

FTP_SESSIONS = (
    "CWD /\r\nMKD 2026-11-24\r\nCWD 2026-11-24\r\nSTOR 10-15-30.jpg\r\nSIZE 10-15-30.jpg\r\nLIST\r\nCWD ..",
    "STOR SensrCam2010102011073001.jpg.part\r\nRNFR SensrCam2010102011073001.jpg.part\r\n"
    "RNTO SensrCam2010102011073001.jpg\r\nMDTM SensrCam2010102011073001.jpg",
    "MKD /a/b\r\nSTOR /a/b/c.jpg\r\nRNFR /a\r\nRNTO /old\r\nNLST /old/b\r\nDELE /old/b/c.jpg\r\nRMD /old",
    "CWD ../../etc\r\nSTOR ../passwd\r\nSTOR ./x/../../y.jpg\r\nLIST //\r\nSTOR nul\x00byte.jpg\r\nSTOR tab\tname.jpg",
    "APPE 2026-11-24_10-15-30.jpg\r\nRNFR missing.jpg\r\nRNTO other.jpg\r\nSIZE /\r\nRMD /",
)


def small_jpegs() -> list[bytes]:
    """Tiny JPEGs and MPF files with each feature, under the long run's input length."""
    tiny = [make_jpeg(8, 8, content="gradient", seed=seed, quality=50, progressive=progressive,
                      restart_blocks=restart) for seed, progressive, restart in ((20, False, 0), (21, True, 1))]
    return [*tiny, mpf_file(tiny), mpf_file([tiny[0], tiny[1], tiny[0]], big_endian=False, later_attributes=True)]


def scanner_seeds() -> list[bytes]:
    frames, mpf = sample_frames(), (*mpf_files(), *small_jpegs())
    junk = b"\r\n--boundary\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe1\xff\xff junk"
    stream = mpjpeg_stream(frames[:4])
    seeds = [encode_input(jpeg) for jpeg in (*frames, *mpf)]
    seeds += [
        encode_input(stream, cuts=[1, 100, len(stream) // 2, len(stream) - 1]),
        encode_input(b"".join(mpf), cuts=[len(mpf[0]) - 1, len(mpf[0]) + 2]),
        encode_input(junk + frames[0] + frames[5][:-300] + frames[8] + b"\r\n", cuts=[3, 40, 700]),
        encode_input(frames[3] + frames[0] + frames[1] + frames[2], limit_code=80, cuts=[500, 1000, 5000]),
        encode_input(make_jpeg(16, 16, content="gradient", progressive=True) * 3, limit_code=40,
                     cuts=list(range(7, 1500, 101))),
    ]
    return seeds


def frame_check_seeds() -> list[bytes]:
    frames = sample_frames()
    return [*frames, *mpf_files(), *small_jpegs(), *hostile_frames().values(),
            b"\r\n" + frames[0] + b"\r\n--ffmpeg--\r\n", frames[0] + frames[8], frames[2][:-100]]


def ftp_names_seeds() -> list[bytes]:
    return [text.encode() for text in (*CAMERA_NAMES, *FTP_SESSIONS)]


SEED_SETS = {"scanner": scanner_seeds, "frame_check": frame_check_seeds, "ftp_names": ftp_names_seeds}


def write_seeds(root: Path = SEEDS) -> None:
    """Replace `root`/<target>/ with the seeds, each named by its SHA-1 (as libFuzzer names inputs)."""
    for target, seeds in SEED_SETS.items():
        folder = root / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for seed in seeds():
            (folder / hashlib.sha1(seed).hexdigest()).write_bytes(seed)


if __name__ == "__main__":
    write_seeds()
