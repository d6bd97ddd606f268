"""Uploads published lately, so that a camera re-uploading the same files (after a reboot,
or after a reply it never saw) is answered `226` without a second copy in Kafka."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass

MAX_REMEMBERED = 200_000
"""Upper bound on remembered uploads (about 200 bytes each); the oldest go first."""


@dataclass(frozen=True, slots=True)
class UploadKey:
    """What makes two uploads the same: camera, final file name and content."""

    camera: str
    filename: str
    digest: bytes

    @classmethod
    def of(cls, camera: str, filename: str, jpeg: bytes) -> "UploadKey":
        return cls(camera, filename, hashlib.blake2b(jpeg, digest_size=16).digest())


class RecentUploads:
    """Keys of uploads Kafka acknowledged within the last `window` seconds.

    Used from the IOLoop thread only. Entries are kept in the order they were remembered,
    so expiry pops from the front.
    """

    def __init__(self, window: float, max_entries: int = MAX_REMEMBERED) -> None:
        self.window = window
        self.max_entries = max_entries
        self._seen: OrderedDict[UploadKey, float] = OrderedDict()

    def __contains__(self, key: UploadKey) -> bool:
        self._expire(time.monotonic())
        return key in self._seen

    def remember(self, key: UploadKey) -> None:
        if self.window <= 0:
            return
        now = time.monotonic()
        self._seen[key] = now
        self._seen.move_to_end(key)
        self._expire(now)

    def _expire(self, now: float) -> None:
        seen = self._seen
        while seen:
            key, since = next(iter(seen.items()))
            if now - since < self.window and len(seen) <= self.max_entries:
                return
            del seen[key]
