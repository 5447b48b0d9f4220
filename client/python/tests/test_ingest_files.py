"""Client.ingest_file / upsert_models_file against a real server, batches cut by bytes (against
a recording fake server), and failing fast when no server ever answered. Expected values are
computed here from the data each test writes."""

from __future__ import annotations

import json
import pathlib
import time
from concurrent import futures

import grpc
import pytest

import hubstats
from hubstats._local import free_port
from hubstats.v1 import hubstats_pb2 as pb
from hubstats.v1 import hubstats_pb2_grpc as pb_grpc

# Issue 9's catalog file (a stray quote on line 13), shared with the CLI's end-to-end tests.
STRAY_QUOTE_CATALOG = (pathlib.Path(__file__).resolve().parents[3] / "tests" / "input_rules"
                       / "stray_quote_catalog.csv")


def unpack(request: pb.IngestRequest) -> list[pb.DownloadEvent]:
    """The events of `request` in the order the client sent them: its `events` entries, then
    the columns of `packed`, one event per model_index entry."""
    events = list(request.events)
    packed = request.packed
    for i, index in enumerate(packed.model_index):
        event = pb.DownloadEvent(model_id=packed.model_ids[index])
        if packed.timestamp_seconds:
            event.timestamp.seconds = packed.timestamp_seconds[i]
            event.timestamp.nanos = packed.timestamp_nanos[i]
        if packed.counts:
            event.count = packed.counts[i]
        if packed.revision_index:
            event.revision = packed.revisions[packed.revision_index[i]]
        events.append(event)
    return events


class RecordingIngest(pb_grpc.IngestServiceServicer):
    """Accepts everything and keeps every request it was sent."""

    def __init__(self):
        self.requests = []

    def StreamEvents(self, requests, context):
        for request in requests:
            self.requests.append(request)
            events = unpack(request)
            yield pb.IngestResponse(sequence=request.sequence, accepted=len(events),
                                    accepted_downloads=sum(e.count or 1 for e in events))


@pytest.fixture
def recording():
    """(servicer, target) of an in-process IngestService that records its requests."""
    servicer = RecordingIngest()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_IngestServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(None)


def varied_events(count: int) -> list[dict]:
    """Events whose revisions vary in length, so requests differ in size."""
    return [{"model_id": f"org/m{i % 7}", "count": 1 + i % 5,
             "revision": "r" * (20 + (i * 37) % 230)} for i in range(count)]


def test_batches_are_cut_by_bytes_the_same_way_every_time(recording):
    servicer, target = recording
    events = varied_events(300)
    with hubstats.Client(target) as client:
        summary = client.ingest(events, batch_size=1000, batch_bytes=4096,
                                producer_id="job-bytes")
    assert summary["accepted"] == 300
    requests = list(servicer.requests)
    assert len(requests) > 10
    assert [r.sequence for r in requests] == list(range(1, len(requests) + 1))
    assert sum(len(unpack(r)) for r in requests) == 300
    for request, following in zip(requests, requests[1:] + [None]):
        assert request.ByteSize() <= 4096
        if following is not None:
            # Full: the next batch's first event would not have fitted unpacked (the client
            # cuts by the unpacked size, which packing only shrinks), within the 16 bytes it
            # keeps for the request's own fields (producer id and sequence).
            grown = pb.IngestRequest(producer_id=request.producer_id, sequence=request.sequence,
                                     events=unpack(request) + unpack(following)[:1])
            assert grown.ByteSize() > 4096 - 16
    # A re-run with the same input and settings sends the very same batches.
    servicer.requests.clear()
    with hubstats.Client(target) as client:
        client.ingest(events, batch_size=1000, batch_bytes=4096, producer_id="job-bytes")
    assert servicer.requests == requests


def test_an_event_too_large_for_any_batch_is_rejected(recording):
    servicer, target = recording
    events = [{"model_id": "org/a"}, {"model_id": "org/b", "revision": "x" * 5000},
              {"model_id": "org/c", "count": 3}]
    with hubstats.Client(target) as client:
        summary = client.ingest(events, batch_bytes=2048)
    assert (summary["accepted"], summary["rejected"], summary["accepted_downloads"]) == (2, 1, 4)
    assert [(e["index"], e["field"]) for e in summary["errors"]] == [(1, "")]
    assert "more than the 2 KiB a batch may hold" in summary["errors"][0]["reason"]
    assert all(e.model_id != "org/b" for r in servicer.requests for e in unpack(r))


@pytest.mark.parametrize("batch_bytes", [1023, (16 << 20) + 1, 2.5, True])
def test_batch_bytes_is_checked(batch_bytes):
    with hubstats.Client("127.0.0.1:1") as client:
        with pytest.raises(ValueError, match="batch_bytes"):
            client.ingest([], batch_bytes=batch_bytes)


def test_ingest_fails_fast_when_no_server_ever_answered():
    targets = f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}"
    with hubstats.Client(targets) as client:
        started = time.monotonic()
        with pytest.raises(hubstats.UnavailableError, match="no server answered at ") as caught:
            client.ingest([{"model_id": "a/b"}])
        assert time.monotonic() - started < 10
        assert "pass retry_for" in str(caught.value)
        assert caught.value.partial_summary["reconnects"] == 1  # Both targets were tried.
        # Given retry_for, it keeps trying that long.
        started = time.monotonic()
        with pytest.raises(hubstats.UnavailableError, match="gave up after 800ms"):
            client.ingest([{"model_id": "a/b"}], retry_for=0.8)
        assert time.monotonic() - started >= 0.8


def test_ingest_file_in_both_formats_reports_lines(server, tmp_path):
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text("\n".join([
        json.dumps({"model_id": "org/a", "timestamp": "2024-09-20T12:00:00Z", "count": 5}),
        json.dumps({"model_id": "org/a", "revison": "main"}),   # Misspelled: rejected.
        "",
        json.dumps({"model_id": "bad id", "count": 1}),          # Refused by the server.
        "{oops",
        json.dumps({"model_id": "org/b", "timestamp": 1726833600, "count": 2}),
    ]) + "\n")
    csv = tmp_path / "more.csv"
    csv.write_text("model_id,timestamp,count,revision\n"
                   "org/a,2024-09-21,7,main\n"
                   "org/c,1726920000,1,\n"
                   'org/d,soon,1,\n'
                   "org/e,2024-09-21,te\"n,\n")
    with hubstats.Client(server.target) as client:
        first = client.ingest_file(jsonl, batch_size=2)
        second = client.ingest_file(csv)
        totals = client.totals()
        days = client.model("org/a")["days"]
    assert (first["accepted"], first["rejected"], first["accepted_downloads"]) == (2, 3, 7)
    assert [(e["line"], e["field"]) for e in first["errors"]] == [
        (2, "revison"), (4, "model_id"), (5, "")]
    assert (second["accepted"], second["rejected"], second["accepted_downloads"]) == (2, 2, 8)
    assert [(e["line"], e["field"]) for e in second["errors"]] == [(4, "timestamp"), (5, "")]
    assert totals["total_downloads"] == 15
    assert [(day.isoformat(), n) for day, n in days] == [("2024-09-20", 5), ("2024-09-21", 7)]


def test_ingest_file_refuses_an_unknown_column_before_sending(server, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("model_id,downloads\norg/a,3\n")
    with hubstats.Client(server.target) as client:
        with pytest.raises(ValueError, match="line 1: unknown column 'downloads'"):
            client.ingest_file(path)
        with pytest.raises(ValueError, match="cannot tell the format"):
            client.ingest_file(tmp_path / "events.txt")
        assert client.totals()["total_downloads"] == 0


def test_upsert_models_file_keeps_the_records_after_a_stray_quote(server):
    """Issue 9's case: a stray quote inside a field costs its own line (13), not the file."""
    path = STRAY_QUOTE_CATALOG
    with hubstats.Client(server.target) as client:
        summary = client.upsert_models_file(path)
        assert client.totals()["catalogued_models"] == 19
    assert (summary["accepted"], summary["rejected"]) == (19, 1)
    assert [(e["index"], e["line"]) for e in summary["errors"]] == [(11, 13)]
    assert "a quote inside an unquoted field" in summary["errors"][0]["reason"]
