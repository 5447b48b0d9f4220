"""Exactly-once ingestion for `Client.ingest` and `Client.upsert_models`: cutting the caller's
items into batches (by count and bytes, deterministically) and streaming them, re-sending
every unacknowledged batch after a failure, to the same or another server.

Private: the API is the Client's; its docstrings state the behaviour.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import grpc

from hubstats import _convert as convert
from hubstats import _version as version_token
from hubstats._input import FileItem, human_bytes
from hubstats.errors import HubstatsError, error_of, from_rpc_error
from hubstats.v1 import hubstats_pb2 as pb
from hubstats.v1 import hubstats_pb2_grpc as pb_grpc

Progress = Callable[[dict], Any]
_log = logging.getLogger("hubstats")


#: Ingest streams that fail with these codes are re-opened (to the next target) and every
#: unacknowledged batch re-sent; any other code ends the ingest at once.
RETRYABLE_CODES = frozenset({
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED,
    grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
})
#: Seconds Client.ingest keeps retrying without an acknowledgement, once a server answered.
DEFAULT_RETRY_FOR = 300.0
_FIRST_BACKOFF = 0.1   # Seconds before the first reconnect; doubles up to _MAX_BACKOFF.
_MAX_BACKOFF = 5.0


#: Ingest batches read from the caller's input and not yet answered, at most.
MAX_BATCHES_IN_FLIGHT = 8


def human_duration(seconds: float) -> str:
    """A duration as people read it, as the CLI prints them: "850ms", "1.2s", "42s", "5m",
    "5m30s", "1h30m"."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 10:
        tenths = round(seconds * 10)
        return f"{tenths // 10}s" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    hours, minutes, rest = whole // 3600, whole % 3600 // 60, whole % 60
    text = f"{hours}h" if hours else ""
    if minutes or not hours:
        text += f"{minutes}m"
    if rest and not hours and minutes < 10:
        text += f"{rest}s"
    return text


def rejection(index: int, field: str, reason: str, line: int | None = None) -> dict:
    """A rejection of the item at input position `index` (with its `line` for file input)."""
    error = {"index": index, "field": field, "reason": reason}
    if line is not None:
        error["line"] = line
    return error


def _framed_size(message) -> int:
    """The bytes `message` adds to a request as a repeated field: tag, length, body."""
    size = message.ByteSize()
    return 1 + (size.bit_length() + 6) // 7 + size if size else 2


@dataclass
class SentBatch:
    """An ingest or upsert batch: where its items are in the caller's input."""

    first: int                  # Input position of the batch's first item.
    size: int = 0               # Items of the input in the batch, sent or not.
    sent: list[int] = field(default_factory=list)     # Input position of each item sent.
    errors: list[dict] = field(default_factory=list)  # Items the client rejected.
    lines: dict[int, int] = field(default_factory=dict)  # File input: position -> line.
    sequence: int = 0                                  # Ingest: the batch's number, from 1.
    request: Any = None                                # Ingest: the IngestRequest to (re-)send.
    read_at: float = 0.0                               # Ingest: time.monotonic() when read.

    def add_rejections(self, summary: dict, response) -> None:
        """Adds the batch's rejections, the client's and those in the server's answer (an
        IngestResponse or UpsertModelsResponse), to `summary`, by input position."""
        summary["rejected"] += response.rejected + len(self.errors)
        server_errors = [rejection(self.sent[r.index], r.field, r.reason,
                                self.lines.get(self.sent[r.index]))
                         for r in response.rejections]
        summary["errors"].extend(sorted(self.errors + server_errors, key=lambda e: e["index"]))


_END = object()


def pack(events: list, batch: SentBatch) -> pb.IngestRequest:
    """An IngestRequest holding `events` (DownloadEvent messages) in columns
    (IngestRequest.packed): a third of the bytes, and cheaper for the server to decode.

    A column is sent only when some event needs it. An event without a timestamp in a batch
    whose others have one stays an `events` entry; those come first in the request, so
    `batch.sent` (each item's input position, in the request's order) is reordered to match.
    The result depends only on the events, so a re-run sends the same batches.
    """
    any_time = any(event.HasField("timestamp") for event in events)
    any_count = any(event.HasField("count") for event in events)
    any_revision = any(event.revision for event in events)
    request = pb.IngestRequest()
    packed = request.packed
    ids: dict[str, int] = {}
    revisions: dict[str, int] = {}
    if any_revision:
        packed.revisions.append("")
        revisions[""] = 0
    listed, columns = [], []
    for position, event in zip(batch.sent, events):
        if any_time and not event.HasField("timestamp"):
            request.events.append(event)
            listed.append(position)
            continue
        index = ids.setdefault(event.model_id, len(ids))
        if index == len(packed.model_ids):
            packed.model_ids.append(event.model_id)
        packed.model_index.append(index)
        if any_time:
            packed.timestamp_seconds.append(event.timestamp.seconds)
            packed.timestamp_nanos.append(event.timestamp.nanos)
        if any_count:
            packed.counts.append(event.count if event.HasField("count") else 1)
        if any_revision:
            revision = revisions.setdefault(event.revision, len(revisions))
            if revision == len(packed.revisions):
                packed.revisions.append(event.revision)
            packed.revision_index.append(revision)
        columns.append(position)
    if not columns:
        request.ClearField("packed")
    batch.sent = listed + columns
    return request


class Batcher:
    """Cuts the caller's items into batches of at most `batch_size` items whose request takes
    at most `batch_bytes` bytes. The cut depends only on the items and the settings, so a
    re-run with the same input and settings makes the same batches. Items that cannot be
    encoded, and items too large for any batch, become client-side rejections in their batch.
    Not thread-safe: one reader."""

    def __init__(self, items: Iterator[Any], to_fields: Callable[[Any], dict],
                 message: Callable[..., Any], batch_size: int, batch_bytes: int,
                 overhead: int, noun: str):
        self.items, self.to_fields, self.message = items, to_fields, message
        self.batch_size, self.batch_bytes, self.overhead = batch_size, batch_bytes, overhead
        self.noun = noun
        self.position = 0   # Input position of the next batch's first item.
        self.held = None    # (message, error, line) read and left for the next batch.

    def _encode(self, item) -> tuple[Any, tuple[str, str] | None, int | None]:
        line = None
        if isinstance(item, FileItem):
            line = item.line
            if item.error is not None:
                return None, (item.error.field, item.error.reason), line
            item = item.fields
        try:
            return self.message(**self.to_fields(item)), None, line
        except convert.ItemError as error:
            return None, (error.field, error.reason), line
        except (ValueError, TypeError) as error:  # protobuf refused a value, e.g. bad UTF-8.
            return None, ("", str(error)), line

    def next(self) -> tuple[SentBatch, list]:
        """The next batch and its messages; a batch of size 0 at the end of the input."""
        batch = SentBatch(self.position)
        messages, size = [], self.overhead
        while batch.size < self.batch_size:
            if self.held is None:
                item = next(self.items, _END)
                if item is _END:
                    break
                self.held = self._encode(item)
            message, error, line = self.held
            index = batch.first + batch.size
            if error is None and self.overhead + _framed_size(message) > self.batch_bytes:
                error = ("", f"the {self.noun} takes {human_bytes(_framed_size(message))}, more "
                             f"than the {human_bytes(self.batch_bytes)} a batch may hold "
                             "(batch_bytes)")
            if error is not None:
                batch.errors.append(rejection(index, *error, line))
            else:
                framed = _framed_size(message)
                if messages and size + framed > self.batch_bytes:
                    break  # The held item starts the next batch.
                size += framed
                messages.append(message)
                batch.sent.append(index)
            if line is not None:
                batch.lines[index] = line
            batch.size += 1
            self.held = None
        self.position = batch.first + batch.size
        return batch, messages


class Ingestion:
    """One Client.ingest call.

    A reader thread cuts the input into numbered batches, keeping at most
    MAX_BATCHES_IN_FLIGHT read and unacknowledged. The calling thread opens streams, one after
    the other, each on a new channel; each stream's request iterator (run by gRPC) sends the
    unacknowledged batches in order, then new ones as they are read, and half-closes once the
    input is exhausted and everything was sent. Answers must come in order: each one
    acknowledges the oldest unacknowledged batch.
    """

    def __init__(self, targets: list[str], first_target: int, items: Iterator[Any],
                 batch_size: int, batch_bytes: int, producer_id: str, retry_for: float | None,
                 progress: Progress | None, new_channel: Callable[[str], grpc.Channel]):
        self.targets = targets
        self.new_channel = new_channel  # The client's channel factory.
        self.first_target = first_target
        # The request's own fields: the producer id and the sequence, with their tags.
        self.batcher = Batcher(items, convert.event_fields, pb.DownloadEvent, batch_size,
                                batch_bytes, len(producer_id) + 16, "event")
        self.producer_id = producer_id
        # None: retry for DEFAULT_RETRY_FOR once a server answered, not at all before.
        self.retry_for = DEFAULT_RETRY_FOR if retry_for is None else retry_for
        self.retry_before_contact = retry_for is not None
        self.contacted = False       # A server answered (set from gRPC's threads too).
        self.progress = progress
        self.changed = threading.Condition()
        # Guarded by `changed`:
        self.unacked: collections.deque[SentBatch] = collections.deque()  # Oldest first.
        self.input_done = False      # The reader added its last batch.
        self.stopping = False        # The ingest is over: the reader must stop.
        self.input_failure: BaseException | None = None
        # Used by the calling thread only:
        self.acknowledged = 0        # Batches acknowledged.
        self.last_ack = time.monotonic()
        self.summary = {"accepted": 0, "duplicates": 0, "rejected": 0, "accepted_downloads": 0,
                        "duplicate_downloads": 0, "accepted_all_time_only": 0,
                        "errors": [], "producer_id": producer_id,
                        "reconnects": 0, "version": ""}

    def run(self) -> dict:
        reader = threading.Thread(target=self._read, name="hubstats-ingest-reader", daemon=True)
        reader.start()
        try:
            self._deliver()
        except BaseException as error:
            # The reader stops after the chunk it may be reading (it is not waited for: the
            # caller's iterable may block).
            with self.changed:
                self.stopping = True
                self.changed.notify_all()
            if isinstance(error, HubstatsError):
                error.partial_summary = self.summary
            raise
        reader.join()
        if self.input_failure is not None:
            raise self.input_failure
        return self.summary

    # --- the reader thread --------------------------------------------------------------------

    def _read(self) -> None:
        sequence = 0
        try:
            while True:
                with self.changed:
                    while len(self.unacked) >= MAX_BATCHES_IN_FLIGHT and not self.stopping:
                        self.changed.wait()
                    if self.stopping:
                        return
                batch, messages = self.batcher.next()
                if batch.size == 0:
                    return
                sequence += 1
                batch.sequence = sequence
                batch.request = pack(messages, batch)
                batch.request.producer_id = self.producer_id
                batch.request.sequence = sequence
                batch.read_at = time.monotonic()
                with self.changed:
                    self.unacked.append(batch)
                    self.changed.notify_all()
        except BaseException as error:  # The caller's iterable failed; see Client.ingest.
            self.input_failure = error
        finally:
            with self.changed:
                self.input_done = True
                self.changed.notify_all()

    # --- the calling thread -------------------------------------------------------------------

    def _deliver(self) -> None:
        """Streams until every batch is acknowledged; raises HubstatsError on giving up."""
        backoff = _FIRST_BACKOFF
        target = self.first_target
        unreached = 0  # Targets tried in a row while no server ever answered.
        while True:
            with self.changed:
                while not self.unacked and not self.input_done:
                    self.changed.wait()
                if not self.unacked:
                    return  # The input is exhausted and every batch acknowledged.
            acknowledged_before = self.acknowledged
            failure = self._stream(self.targets[target])
            if self.acknowledged > acknowledged_before:
                backoff = _FIRST_BACKOFF
            if failure is None:
                continue
            if failure.code not in RETRYABLE_CODES:
                raise failure
            if not self.contacted and not self.retry_before_contact:
                unreached += 1
                if unreached >= len(self.targets):
                    raise error_of(failure.code, (
                        f"no server answered at {', '.join(self.targets)} ({failure.details}); "
                        "pass retry_for to wait for a server that is starting"))
            with self.changed:
                waiting_since = max(self.last_ack, self.unacked[0].read_at) if self.unacked \
                    else None
            if waiting_since is not None and time.monotonic() - waiting_since > self.retry_for:
                raise error_of(failure.code, f"gave up after {human_duration(self.retry_for)} "
                                             f"without an acknowledgement; last error: "
                                             f"{failure.details}")
            failed_target = self.targets[target]
            target = (target + 1) % len(self.targets)
            delay = backoff * random.uniform(0.5, 1.0)
            _log.warning("hubstats ingest: stream to %s failed (%s: %s); re-sending the "
                         "unacknowledged batches to %s in %s", failed_target,
                         failure.code.name, failure.details, self.targets[target],
                         human_duration(delay))
            self.summary["reconnects"] += 1
            time.sleep(delay)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    def _stream(self, target: str) -> HubstatsError | None:
        """One stream: the error it failed with, or None when it ended with everything sent on
        it acknowledged."""
        channel = self.new_channel(target)  # New per stream: DNS names are resolved again.
        stream = _StreamState()
        call = None

        def connectivity(state: grpc.ChannelConnectivity) -> None:
            # A server answered once the channel is connected; a wrong address never gets there.
            if state == grpc.ChannelConnectivity.READY:
                self.contacted = True

        channel.subscribe(connectivity)
        try:
            call = pb_grpc.IngestServiceStub(channel).StreamEvents(self._requests(stream))
            try:
                for response in call:
                    with self.changed:
                        expected = self.unacked[0].sequence if self.unacked else None
                        if response.sequence != expected:
                            # Not retried: a server that does not echo sequences (one older
                            # than exactly-once ingestion) would count re-sent batches again.
                            raise error_of(grpc.StatusCode.INTERNAL, (
                                f"{target} answered sequence {response.sequence}, expected "
                                f"{expected}: the server does not support exactly-once "
                                f"ingestion (or broke the protocol); the batches sent from "
                                f"sequence {expected} on may have been counted"))
                        batch = self.unacked.popleft()
                        self.changed.notify_all()  # Room for the reader.
                    self.contacted = True
                    self.acknowledged += 1
                    self.last_ack = time.monotonic()
                    self._account(batch, response)
            except grpc.RpcError as error:
                return from_rpc_error(error)
            with self.changed:
                if self.unacked:  # Ended with OK but not everything answered: re-send.
                    return error_of(grpc.StatusCode.UNAVAILABLE,
                                    "the stream ended with batches unanswered")
            return None
        finally:
            with self.changed:
                stream.over = True  # Ends the request iterator if it waits for batches.
                self.changed.notify_all()
            if call is not None:
                call.cancel()  # No-op once the call has ended.
            channel.unsubscribe(connectivity)
            channel.close()

    def _requests(self, stream: _StreamState) -> Iterator[pb.IngestRequest]:
        """The requests of one stream (run on gRPC's sending thread): every unacknowledged
        batch in order, then each new one; returns (half-closes) after the last batch."""
        next_sequence = 0
        while True:
            with self.changed:
                while True:
                    if stream.over:
                        return
                    batch = next((b for b in self.unacked if b.sequence >= next_sequence), None)
                    if batch is not None:
                        break
                    if self.input_done:
                        return
                    self.changed.wait()
                next_sequence = batch.sequence + 1
            yield batch.request

    def _account(self, batch: SentBatch, response) -> None:
        """Adds an acknowledged batch to the summary."""
        summary = self.summary
        summary["version"] = version_token.merge(summary["version"], response.version)
        if response.duplicate:
            summary["duplicates"] += response.accepted
            summary["duplicate_downloads"] += response.accepted_downloads
        else:
            summary["accepted"] += response.accepted
            summary["accepted_downloads"] += response.accepted_downloads
            summary["accepted_all_time_only"] += response.accepted_all_time_only
        batch.add_rejections(summary, response)
        if self.progress is not None:
            self.progress({"processed": batch.first + batch.size,
                           **{key: summary[key] for key in
                              ("accepted", "rejected", "accepted_downloads")}})


class _StreamState:
    """Shared by a stream's reading loop and its request iterator."""

    over = False  # Guarded by _Ingestion.changed.
