"""The duplicate rule: identical bytes from one camera within `SENSR_REUPLOAD_WINDOW` are
stored once, whichever edge they came through and across restarts of any service.

Why here: a camera sends a frame again when its upload was refused or its answer never
came, and the first copy may have reached Kafka anyway: a broker frozen for longer than
the produce timeout writes the record it had already received when it resumes, after the
edge answered 503 / 451; an edge killed between Kafka's acknowledgement and its 226 / 200
leaves a camera that sends the same file to the next process. The copies reach
`sensr.frames` under different frame ids, possibly through different edges; the catalog
worker is the one place that sees them all, and its index outlives every process.

How: before a batch's objects are written, each frame claims its content (the camera and
`sensr.frames.content_digest` of its bytes) in the index (`FrameIndex.claim_contents`, an
upsert on a unique key: atomic, so even two workers during a rebalance agree). A frame
whose claim is refused is not stored, indexed or announced, costs no PUT, is counted in
`sensr_catalog_duplicates_dropped_total` and logged with the frame kept; its offset is
committed with its batch. Within a batch the copies are claimed in time order, so the
first copy is the one kept. (A camera whose retry was answered 200 holds that copy's frame
id; when the earlier copy is the one kept, that id is not listed. The bytes are, once.)

Why no frame is lost:
- A batch that is redone (a retry, a crash, a rebalance) claims again under the same frame
  ids, and a claim held by its own frame id is taken again.
- Claims are taken batch after batch in offset order, and a batch's offsets are committed
  only after every earlier batch's: a copy is dropped only for a copy in the same batch or
  before it in the same partition (one camera, one key, one partition), which is indexed
  already or will be before the drop is committed; if that batch fails, the later ones
  are redone with it.
- A transient failure of the kept copy (its write, its index row) redoes its batch and
  the later ones, claims included: it is kept again.
- A kept copy dead-lettered after its claim (a JPEG that cannot be decoded, a row the
  index refuses) gives the claim up (`release`), and is remembered as dead: a redone
  batch goes on without its claim. If copies were dropped for it meanwhile (its batch
  was still in flight), `release` raises TransientError, so the consumer loop redoes the
  batches in flight, and the first of those copies now holds the content. (A JPEG that
  cannot be decoded fails for every copy alike; each then gets its own dead letter.)
- A frame removed from the index (retention) takes its claim with it.

The window is measured in Sensr timestamps (so a backlog is judged as it arrived, not as
it is consumed) and counts from the last copy kept: a camera that sends the same picture
over and over has one copy stored per window. Window 0 turns the rule off (no digests, no
queries).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from catalog_worker import metrics
from catalog_worker.dlq import DeadLetter
from catalog_worker.errors import TransientError, index_unavailable
from sensr.frames import H_FRAME_ID, FrameEvent, content_digest
from sensr.index import ContentClaim, FrameIndex
from sensr.logs import get_logger

log = get_logger(__name__)
REMEMBERED = 10_000
"""Frame ids each of the filter's memories keeps (the oldest go first): far more than the
batches in flight, so a redo always finds what it needs."""


class DuplicateFilter:
    """Decides which frames of a batch are a camera's copies of content it already has."""

    def __init__(self, index: FrameIndex, window_seconds: float) -> None:
        self._index = index
        self._window_us = round(window_seconds * 1_000_000)
        self._kept_for_dropped: OrderedDict[str, None] = OrderedDict()
        """Frames that copies were dropped for; they must not fail without a redo."""
        self._dead: OrderedDict[str, None] = OrderedDict()
        """Frames dead-lettered: they claim nothing when their batch is redone."""

    def duplicates(self, frames: Sequence[FrameEvent]) -> set[str]:
        """Claim every frame's content; returns the ids of the frames to drop (their content
        is held by another frame within the window). Raises TransientError when the index
        is unavailable."""
        if self._window_us <= 0 or not frames:
            return set()
        in_time_order = sorted(frames, key=lambda frame: (frame.timestamp_us, frame.frame_id))
        claims = [ContentClaim(frame.camera, content_digest(frame.jpeg), frame.frame_id, frame.timestamp_us)
                  for frame in in_time_order if frame.frame_id not in self._dead]
        with index_unavailable():
            holders = self._index.claim_contents(claims, self._window_us)
        dropped = {frame_id for frame_id, holder in holders.items() if holder != frame_id}
        for frame in in_time_order:
            if frame.frame_id in dropped:
                _remember(self._kept_for_dropped, [holders[frame.frame_id]])
                metrics.DUPLICATES_DROPPED.labels(frame.source).inc()
                log.info("duplicate_frame_dropped", camera=frame.camera, frame_id=frame.frame_id,
                         kept=holders[frame.frame_id], source=frame.source, filename=frame.filename)
        return dropped

    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Give up the claims of dead-lettered frames (see the module docstring). Raises
        TransientError when the index is unavailable, and when copies were dropped for one
        of these frames: the batches in flight must then be redone."""
        frame_ids = [raw.decode(errors="replace") for letter in letters
                     for name, raw in letter.message.payload.headers if name == H_FRAME_ID]
        if self._window_us <= 0 or not frame_ids:
            return
        with index_unavailable():
            self._index.release_contents(frame_ids)
        _remember(self._dead, frame_ids)
        relied_on = sorted(set(frame_ids) & self._kept_for_dropped.keys())
        for frame_id in relied_on:
            del self._kept_for_dropped[frame_id]
        if relied_on:
            log.warning("duplicates_of_dead_letters", frames=relied_on)
            raise TransientError("dedup", f"copies were dropped for {len(relied_on)} frame(s) dead-lettered since: "
                                          "redoing the batches in flight to store them")


def _remember(memory: OrderedDict[str, None], frame_ids: Iterable[str]) -> None:
    for frame_id in frame_ids:
        memory[frame_id] = None
        memory.move_to_end(frame_id)
    while len(memory) > REMEMBERED:
        memory.popitem(last=False)
