"""Have glibc give large freed buffers back to the operating system at once.

glibc serves an allocation over its mmap threshold with its own mapping and unmaps it
when freed, but each such free raises the threshold (up to 32 MiB), after which blocks
of that size come from the per-thread heaps and stay resident when freed. A JPEG
decode's buffers (a progressive frame's coefficients: tens of MiB) then stay in every
store thread's heap: 32 frames of 16 MP on 8 threads left the worker 650 MiB larger
although the decode budget let only 128 MiB be held at once. A fixed threshold
(`mallopt(M_MMAP_THRESHOLD)`, which also stops the adjustment) keeps large buffers in
mappings of their own, so the budget bounds resident memory, not only live memory.
"""

from __future__ import annotations

import ctypes
import platform

from sensr.logs import get_logger

log = get_logger(__name__)
M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
"""Blocks this large or larger get a mapping of their own (a decode's row buffers and
images; small objects stay in the heaps, where reuse is cheap)."""


def return_large_blocks_to_the_os() -> bool:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD_BYTES; False (and nothing done) on
    another C library."""
    if platform.libc_ver()[0] != "glibc":
        log.info("malloc_threshold_not_set", reason="not glibc")
        return False
    if not ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES):
        log.warning("malloc_threshold_not_set", reason="mallopt refused")
        return False
    return True
