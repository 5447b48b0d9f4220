"""Exactly-once ingestion through re-runs, server crashes, failover and graceful shutdown.

Real redis-server and hubstats-server processes (fixtures in conftest). Every expected value is
computed here from the events sent; the servers' counters must equal it exactly.
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import threading
import time

import grpc
import pytest

import hubstats
from hubstats.client import MAX_BATCHES_IN_FLIGHT

DAYS = [dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=i, hours=i)
        for i in range(4)]
BATCH = 50


def make_input(batches: int, seed: int) -> tuple[list[dict], list[bool]]:
    """`batches` * BATCH events and whether each is valid: some are refused by the server
    (bad model id) and some by the client (unknown key)."""
    rng = random.Random(seed)
    events, valid = [], []
    for i in range(batches * BATCH):
        if i % 97 == 13:
            events.append({"model_id": "not a model id", "timestamp": DAYS[0], "count": 5})
            valid.append(False)
        elif i % 97 == 50:
            events.append({"model_id": "org0/m0", "timestamp": DAYS[0], "downloads": 5})
            valid.append(False)
        else:
            events.append({"model_id": f"org{rng.randrange(4)}/m{rng.randrange(30)}",
                           "timestamp": rng.choice(DAYS), "count": rng.randint(1, 1000),
                           "revision": rng.choice(["main", "v2", None])})
            valid.append(True)
    return events, valid


class Truth:
    """What the store must hold after `events` were ingested once."""

    def __init__(self, events: list[dict], valid: list[bool]):
        good = [event for event, ok in zip(events, valid) if ok]
        self.items = len(events)
        self.accepted = len(good)
        self.rejected = len(events) - len(good)
        self.rejected_indexes = [i for i, ok in enumerate(valid) if not ok]
        self.downloads = sum(event["count"] for event in good)
        self.by_model = collections.Counter()
        self.by_model_day = collections.defaultdict(collections.Counter)
        for event in good:
            self.by_model[event["model_id"]] += event["count"]
            self.by_model_day[event["model_id"]][event["timestamp"].date()] += event["count"]

    def check_summary(self, summary: dict) -> None:
        """Every item accounted once: counted now, counted before (duplicate), or rejected."""
        assert summary["accepted"] + summary["duplicates"] == self.accepted
        assert summary["accepted_downloads"] + summary["duplicate_downloads"] == self.downloads
        assert summary["rejected"] == self.rejected
        assert summary["accepted"] + summary["duplicates"] + summary["rejected"] == self.items
        assert [error["index"] for error in summary["errors"]] == self.rejected_indexes

    def check_store(self, target: str) -> None:
        with hubstats.Client(target) as client:
            totals = client.totals()
            assert totals["total_downloads"] == self.downloads
            assert totals["models_with_downloads"] == len(self.by_model)
            top = client.top_n(n=1000)
            assert dict(zip(top["id"], top["downloads"])) == dict(self.by_model)
            for model_id in sorted(self.by_model)[:3]:
                stats = client.model(model_id)
                assert stats["downloads_all_time"] == self.by_model[model_id]
                assert stats["days"] == sorted(self.by_model_day[model_id].items())


class Disruption:
    """Disrupts an ingest of `events` in full flight, once `after` batches were acknowledged.

    With `racing`, `action` runs on a thread of its own, racing with the ingest; `after` may
    then be a tuple of acknowledged-batch counts, to run it at each. Otherwise it runs inside
    the progress callback of batch `after`, once the next MAX_BATCHES_IN_FLIGHT batches were
    read and sent and the server at `committed_on` committed all of them: the client holds a
    full window of batches that are committed but whose answers it has not read.

    `events()` wraps the input: it yields a little slowly and holds back the batches after
    `hold_at` until the action ran (each time; racing, until the last one began), so the action
    always hits an ingest with input left: a racing stall always has batches sent into it, however
    fast the server committed the ones before.
    """

    def __init__(self, action, events: list[dict], valid: list[bool], after, hold_at: int,
                 racing: bool = False, committed_on: str | None = None):
        self.action, self.hold_at, self.racing = action, hold_at, racing
        self.thresholds = tuple(after) if isinstance(after, tuple) else (after,)
        assert racing or len(self.thresholds) == 1
        self.source = events
        window = (self.thresholds[0] + MAX_BATCHES_IN_FLIGHT) * BATCH
        self.window_truth = Truth(events[:window], valid[:window])
        self.committed_on = committed_on
        self.drawn = 0
        self.processed = 0
        self.progressed = threading.Condition()
        self.done = threading.Event()
        self.last_began = threading.Event()
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self._run_racing) if racing else None
        if self.thread:
            self.thread.start()

    def _run_racing(self):
        try:
            for threshold in self.thresholds:
                with self.progressed:
                    if not self.progressed.wait_for(
                            lambda: self.processed >= threshold * BATCH, timeout=30):
                        return
                if threshold == self.thresholds[-1]:
                    self.last_began.set()
                self.action()
        except BaseException as error:  # Re-raised by the test in join().
            self.failure.append(error)
        finally:
            self.last_began.set()
            self.done.set()

    def _run_in_callback(self):
        deadline = time.monotonic() + 10
        while self.drawn < (self.thresholds[0] + MAX_BATCHES_IN_FLIGHT) * BATCH:
            assert time.monotonic() < deadline, "the window did not fill"
            time.sleep(0.002)
        with hubstats.Client(self.committed_on) as observer:
            while observer.totals()["total_downloads"] != self.window_truth.downloads:
                assert time.monotonic() < deadline, "the window was not committed"
                time.sleep(0.01)
        try:
            self.action()
        finally:
            self.done.set()

    def progress(self, progress: dict) -> None:
        with self.progressed:
            before, self.processed = self.processed, progress["processed"]
            self.progressed.notify_all()
        if not self.racing and before < self.thresholds[0] * BATCH <= self.processed:
            self._run_in_callback()

    def events(self):
        for index, event in enumerate(self.source):
            released = self.last_began if self.racing else self.done
            if index == self.hold_at * BATCH and not released.wait(30):
                raise RuntimeError("the disruption did not happen")
            if index % BATCH == 0:
                time.sleep(0.002)
            self.drawn += 1
            yield event

    def join(self):
        if self.thread:
            with self.progressed:  # Let the thread end even when the ingest failed early.
                self.processed = len(self.source)
                self.progressed.notify_all()
            self.thread.join(60)
            assert not self.thread.is_alive()
        if self.failure:
            raise self.failure[0]
        assert self.done.is_set()


def test_rerun_with_the_same_producer_id_counts_nothing_twice(server):
    events, valid = make_input(batches=30, seed=1)
    truth = Truth(events, valid)
    half = 12 * BATCH  # A first run that stopped after 12 batches, as if the job had died.
    half_truth = Truth(events[:half], valid[:half])
    with hubstats.Client(server.target) as client:
        first = client.ingest(iter(events[:half]), batch_size=BATCH, producer_id="job:rerun-1")
        assert (first["accepted"], first["duplicates"], first["rejected"]) == (
            half_truth.accepted, 0, half_truth.rejected)
        assert first["producer_id"] == "job:rerun-1" and first["reconnects"] == 0

        # The re-run sends everything again: the first 12 batches come back as duplicates.
        second = client.ingest(iter(events), batch_size=BATCH, producer_id="job:rerun-1")
        truth.check_summary(second)
        assert second["duplicates"] == half_truth.accepted
        assert second["duplicate_downloads"] == half_truth.downloads
        assert second["accepted"] == truth.accepted - half_truth.accepted
        truth.check_store(server.target)

        # Once more (a list this time): all duplicates, counters unchanged.
        third = client.ingest(events, batch_size=BATCH, producer_id="job:rerun-1")
        assert (third["accepted"], third["accepted_downloads"]) == (0, 0)
        assert third["duplicates"] == truth.accepted
        truth.check_summary(third)
        truth.check_store(server.target)

        # Another producer id is another job: its batches count.
        fourth = client.ingest(events[:BATCH], batch_size=BATCH, producer_id="job:other")
        assert fourth["accepted"] == Truth(events[:BATCH], valid[:BATCH]).accepted
        assert fourth["duplicates"] == 0


def test_same_producer_id_with_another_batch_size_fails_clearly(server):
    events, valid = make_input(batches=6, seed=2)
    truth = Truth(events, valid)
    with hubstats.Client(server.target) as client:
        client.ingest(events, batch_size=BATCH, producer_id="job-resized")
        with pytest.raises(hubstats.FailedPreconditionError) as caught:
            client.ingest(events, batch_size=2 * BATCH, producer_id="job-resized")
        error = caught.value
        assert error.code == grpc.StatusCode.FAILED_PRECONDITION
        assert error.field == "sequence"
        assert "job-resized" in str(error) and "batch size" in str(error)
        assert error.partial_summary["accepted"] == 0
        assert error.partial_summary["reconnects"] == 0  # Not retried.
        truth.check_store(server.target)  # Nothing counted twice.


def test_ingest_survives_kill_9_and_restart_at_the_same_port(make_server):
    server = make_server()
    events, valid = make_input(batches=60, seed=3)
    truth = Truth(events, valid)
    restarted = []

    def crash_and_restart():
        server.kill()
        # The client finds nobody listening for a while, then the server is back.
        timer = threading.Timer(0.3, lambda: restarted.append(
            make_server(prefix=server.prefix, port=server.port)))
        timer.start()
        timers.append(timer)

    timers = []
    disruption = Disruption(crash_and_restart, events, valid, after=15, hold_at=30,
                            committed_on=server.target)
    with hubstats.Client(server.target) as client:
        summary = client.ingest(disruption.events(), batch_size=BATCH,
                                progress=disruption.progress)
    disruption.join()
    timers[0].join()
    assert restarted and restarted[0].target == server.target
    assert summary["reconnects"] >= 1
    # Batches committed just before the kill whose answers the client had not taken were
    # re-sent and came back as duplicates: counted once, by the first server. How many of the
    # window's answers the client took before the kill depends on timing; at most the window.
    first, last = 15, 15 + MAX_BATCHES_IN_FLIGHT  # The batches in flight at the kill.
    window = Truth(events[first * BATCH:last * BATCH], valid[first * BATCH:last * BATCH])
    assert 0 < summary["duplicates"] <= window.accepted
    assert 0 < summary["duplicate_downloads"] <= window.downloads
    truth.check_summary(summary)
    truth.check_store(server.target)


def test_ingest_fails_over_to_the_second_target(make_server):
    first = make_server()
    second = make_server(prefix=first.prefix)
    events, valid = make_input(batches=60, seed=4)
    truth = Truth(events, valid)
    disruption = Disruption(first.kill, events, valid, after=15, hold_at=30, racing=True)
    with hubstats.Client(f"{first.target},{second.target}") as client:
        summary = client.ingest(disruption.events(), batch_size=BATCH,
                                producer_id="job-failover", progress=disruption.progress)
        disruption.join()
        assert summary["reconnects"] >= 1
        truth.check_summary(summary)
        # Queries skip the dead first target.
        assert client.totals()["total_downloads"] == truth.downloads
    truth.check_store(second.target)


def test_sigterm_drains_without_loss(make_server):
    first = make_server()
    second = make_server(prefix=first.prefix)
    events, valid = make_input(batches=60, seed=5)
    truth = Truth(events, valid)

    def terminate():
        first.terminate()
        assert first.process.wait(15) == 0  # Drained well within the grace period.

    disruption = Disruption(terminate, events, valid, after=15, hold_at=30,
                            committed_on=first.target)
    with hubstats.Client(f"{first.target},{second.target}") as client:
        summary = client.ingest(disruption.events(), batch_size=BATCH,
                                progress=disruption.progress)
    disruption.join()
    assert "draining" in first.log_text()
    assert summary["reconnects"] >= 1
    # The drain answered the whole window of committed batches before ending the stream:
    # nothing comes back as a duplicate, nothing is lost.
    assert (summary["accepted"], summary["duplicates"]) == (truth.accepted, 0)
    assert summary["accepted_downloads"] == truth.downloads
    truth.check_summary(summary)
    truth.check_store(second.target)


def test_redis_stalls_with_timeouts_count_once(local):
    """Redis stops answering mid-ingest, three times: the server's calls time out although
    Redis runs them once it resumes (ambiguous commits), the server ends the stream after its
    store retries, the client re-sends. Every batch counts exactly once."""
    redis = local.start_redis()  # Of its own: it is paused.
    server = local.start_server(redis.url, extra_args=("--redis-timeout-ms", "200",
                                                       "--store-retry-ms", "100"))
    events, valid = make_input(batches=60, seed=6)
    truth = Truth(events, valid)

    def stall():
        redis.pause()
        try:
            # Far longer than the server's timeouts (its Redis router retries a write within
            # one) and store retries: its commits fail and it ends the stream; the client
            # reconnects and re-sends.
            time.sleep(2.0)
        finally:
            redis.resume()

    disruption = Disruption(stall, events, valid, after=(10, 22, 34), hold_at=45, racing=True)
    with hubstats.Client(server.target) as client:
        summary = client.ingest(disruption.events(), batch_size=BATCH,
                                progress=disruption.progress)
    disruption.join()
    assert summary["reconnects"] >= 1
    truth.check_summary(summary)
    truth.check_store(server.target)


def test_give_up_after_retry_for_without_acknowledgement(make_server):
    server = make_server()
    server.kill()
    with hubstats.Client(server.target) as client:
        started = time.monotonic()
        with pytest.raises(hubstats.UnavailableError, match="gave up after 500ms") as caught:
            client.ingest([{"model_id": "a/b", "timestamp": DAYS[0]}], retry_for=0.5)
        assert 0.5 <= time.monotonic() - started < 5
    partial = caught.value.partial_summary
    assert partial["accepted"] == 0 and partial["reconnects"] >= 1


def test_queries_use_the_first_target_that_answers(server):
    with hubstats.Client(f"127.0.0.1:1, {server.target}") as client:
        assert client.targets == ["127.0.0.1:1", server.target]
        assert client.totals()["total_downloads"] == 0
        summary = client.ingest([{"model_id": "a/b", "timestamp": DAYS[0], "count": 3}])
        assert summary["accepted_downloads"] == 3
        assert client.model("a/b")["downloads_all_time"] == 3


@pytest.mark.parametrize("producer_id", ["", "has space", "x" * 129, "é", 7])
def test_bad_producer_id_is_refused_before_any_call(producer_id):
    with hubstats.Client("127.0.0.1:1") as client:
        with pytest.raises(ValueError, match="producer_id"):
            client.ingest([], producer_id=producer_id)


def test_bad_targets_and_retry_for():
    for target in ("", " , ", None):
        with pytest.raises(ValueError, match="target"):
            hubstats.Client(target)
    with hubstats.Client("127.0.0.1:1") as client:
        with pytest.raises(ValueError, match="retry_for"):
            client.ingest([], retry_for=-1)


def test_generated_producer_ids_are_valid_and_unique():
    from hubstats.client import _PRODUCER_ID, new_producer_id
    ids = {new_producer_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(_PRODUCER_ID.fullmatch(i) and i.startswith("py-") for i in ids)


def test_a_server_that_does_not_echo_sequences_is_not_retried():
    """A server older than exactly-once ingestion answers without sequences: re-sending to it
    would count batches twice, so the client stops at the first answer."""
    from concurrent import futures

    from hubstats.v1 import hubstats_pb2 as pb
    from hubstats.v1 import hubstats_pb2_grpc as pb_grpc

    class OldIngest(pb_grpc.IngestServiceServicer):
        def StreamEvents(self, requests, context):
            for request in requests:
                yield pb.IngestResponse(accepted=len(request.events))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_IngestServiceServicer_to_server(OldIngest(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with hubstats.Client(f"127.0.0.1:{port}") as client:
            with pytest.raises(hubstats.HubstatsError,
                               match="answered sequence 0, expected 1") as caught:
                client.ingest([{"model_id": "a/b"}] * 10, batch_size=2)
            assert caught.value.partial_summary["reconnects"] == 0
    finally:
        server.stop(None)
