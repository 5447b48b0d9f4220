"""Client.export against a real server (fixtures in conftest and test_client): every model
recounted from the events and catalog each test sent, ranks and ties, filters, chunked
streaming, CSV and JSON-lines files; and the stream checks on hand-made chunks.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import threading
from concurrent import futures
from pathlib import Path

import grpc
import pandas as pd
import pytest

import hubstats
from hubstats import _export
from hubstats._convert import parameter_count
from hubstats.v1 import hubstats_pb2 as pb
from hubstats.v1 import hubstats_pb2_grpc as pb_grpc
from test_client import (CATALOG, DAYS, MODALITY, assert_dtypes, author_of, client,  # noqa: F401
                         loaded, ranked)

COLUMNS = {"rank": "int64", "model_id": "object", "author": "object", "downloads": "int64",
           "share_pct": "float64", "modality": "object", "task": "object",
           "architecture": "object", "library": "object", "num_parameters": "Int64",
           "size_class": "object", "catalogued": "bool"}
STRING_COLUMNS = {name: dtype for name, dtype in COLUMNS.items()
                  if name not in ("num_parameters", "catalogued")}
# 1M, 2M, 5M, ..., 1T: the grid of the fine size classes.
GRID = [m * 10**e for e in range(6, 13) for m in (1, 2, 5)][:19]
# Models with equal downloads (ties go by id, byte order: "Tie/z" < "tie/a"), and a bare id.
TIES = {"tie/b": [500], "tie/a": [200, 300], "Tie/z": [500], "tie/c": [499, 1]}
TIE_CATALOG = {"tie/a": dict(pipeline_tag="text-classification", num_parameters=3_000_000,
                             library_name="transformers")}


def count_text(count: int) -> str:
    for unit, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M")):
        if count >= unit and count % unit == 0:
            return f"{count // unit}{suffix}"
    raise AssertionError(count)


def fine_class(parameters: int | None) -> str:
    if parameters is None:
        return "unknown"
    if parameters < GRID[0]:
        return f"<{count_text(GRID[0])}"
    if parameters >= GRID[-1]:
        return f">={count_text(GRID[-1])}"
    lower = max(g for g in GRID if g <= parameters)
    return f"{count_text(lower)}-{count_text(GRID[GRID.index(lower) + 1])}"


def catalog() -> dict:
    return {**CATALOG, **TIE_CATALOG, **{m: None for m in TIES if m not in TIE_CATALOG}}


def model_row(model_id: str) -> dict:
    """The per-model columns of a model, from the catalog sent (not from the server)."""
    record = catalog().get(model_id)  # None: not catalogued.
    modality = MODALITY.get(model_id) or ("nlp" if record else "unknown")

    def key(name):
        return "unknown" if record is None else (record.get(name) or "(none)")

    raw = (record or {}).get("num_parameters")
    parameters = parameter_count(raw, "p") if raw is not None else None
    return {"model_id": model_id, "author": author_of(model_id), "modality": modality,
            "task": key("pipeline_tag"), "architecture": key("architecture"),
            "library": key("library_name"), "num_parameters": parameters,
            "size_class": fine_class(parameters), "catalogued": record is not None}


def recount(events, admits=lambda model_id: True, days=None) -> list[dict]:
    """The export's rows recomputed: downloads per model over `days`, ranked (ties by id)."""
    counts = collections.Counter()
    for event in events:
        if admits(event["model_id"]) and (days is None or event["timestamp"].date() in days):
            counts[event["model_id"]] += event["count"]
    total = sum(counts.values())
    return [{"rank": rank, **model_row(model_id), "downloads": downloads,
             "share_pct": 100 * downloads / total}
            for rank, (model_id, downloads) in enumerate(ranked(counts), start=1)]


def records_of(frame: pd.DataFrame) -> list[dict]:
    """The frame's rows as dicts of plain values (<NA> as None), in COLUMNS order."""
    return [{name: (None if pd.isna(value) else value) for name, value in zip(COLUMNS, row)}
            for row in frame[list(COLUMNS)].itertuples(index=False, name=None)]


def assert_rows(actual: list[dict], expected: list[dict]) -> None:
    assert [row["model_id"] for row in actual] == [row["model_id"] for row in expected]
    for got, want in zip(actual, expected):
        assert got["share_pct"] == pytest.approx(want["share_pct"])
        assert {k: got[k] for k in COLUMNS if k != "share_pct"} == \
               {k: want[k] for k in COLUMNS if k != "share_pct"}


@pytest.fixture
def out(tmp_path) -> Path:
    """An empty folder for export files (the server fixtures keep their logs in tmp_path)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def exported(loaded):
    """`loaded` plus models with equal downloads; returns (client, events)."""
    client, events = loaded
    ties = [{"model_id": model_id, "timestamp": dt.datetime.combine(
                DAYS[0], dt.time(12), tzinfo=dt.timezone.utc), "count": count}
            for model_id, counts in TIES.items() for count in counts]
    assert client.upsert_models([{"model_id": m, **r} for m, r in TIE_CATALOG.items()])[
        "accepted"] == len(TIE_CATALOG)
    assert client.ingest(ties)["rejected"] == 0
    return client, events + ties


def test_export_equals_a_recount_in_chunks(exported):
    client, events = exported
    expected = recount(events)
    calls = []

    frame = client.export(chunk_size=3, progress=lambda done, total: calls.append((done, total)))

    assert_dtypes(frame[list(STRING_COLUMNS)], STRING_COLUMNS)
    assert {c: str(t) for c, t in frame.dtypes.items()} == COLUMNS
    assert list(frame.columns) == list(COLUMNS)
    assert_rows(records_of(frame), expected)
    tied = [row["model_id"] for row in expected if row["model_id"] in TIES]
    assert tied == ["Tie/z", "tie/a", "tie/b", "tie/c"]  # Equal downloads: by id, bytes.
    assert frame["num_parameters"].isna().tolist() == [
        row["num_parameters"] is None for row in expected]
    total = sum(row["downloads"] for row in expected)
    assert frame.attrs["total_models"] == len(expected)
    assert frame.attrs["total_downloads"] == total
    assert frame.attrs["as_of"]["version"]
    assert (frame.attrs["start"], frame.attrs["end"]) == (None, None)
    assert "data_span" not in frame.attrs
    # One progress call per chunk of 3.
    assert calls == [(min(done, len(expected)), len(expected))
                     for done in range(3, len(expected) + 3, 3)]
    # The export agrees with the other queries.
    assert list(frame["model_id"]) == list(client.top_n(10_000)["id"])
    for model_id, size_class in zip(frame["model_id"], frame["size_class"]):
        assert client.model(model_id)["size_class"] == size_class


def test_export_with_filters_and_a_range(exported):
    client, events = exported

    def params(model_id):
        return model_row(model_id)["num_parameters"] or 0

    cases = [
        (dict(modality="nlp"), lambda m: model_row(m)["modality"] == "nlp"),
        (dict(author="acme"), lambda m: author_of(m) == "acme"),
        (dict(author="(canonical)"), lambda m: "/" not in m),
        (dict(library="transformers"), lambda m: model_row(m)["library"] == "transformers"),
        (dict(task="unknown"), lambda m: not model_row(m)["catalogued"]),
        (dict(min_parameters="200M", max_parameters=1e9),
         lambda m: 200_000_000 <= params(m) < 1_000_000_000),
        (dict(min_parameters="7B"), lambda m: params(m) >= 7_000_000_000),
        (dict(modality="nlp", max_parameters="1B"),
         lambda m: model_row(m)["modality"] == "nlp" and 0 < params(m) < 1_000_000_000),
    ]
    for filters, admits in cases:
        frame = client.export(chunk_size=2, **filters)
        expected = recount(events, admits)
        assert_rows(records_of(frame), expected)
        assert frame.attrs["total_downloads"] == sum(r["downloads"] for r in expected), filters
        # The same filters rank the same models in top_n.
        top = client.top_n(10_000, **filters)
        assert list(zip(frame["model_id"], frame["downloads"])) == list(
            zip(top["id"], top["downloads"])), filters
    attrs = client.export(min_parameters="7B", author="acme").attrs
    assert (attrs["min_parameters"], attrs["max_parameters"], attrs["author"]) == (
        7_000_000_000, None, "acme")

    days = set(DAYS[1:3])
    frame = client.export(DAYS[1], DAYS[2].isoformat(), chunk_size=4)
    assert_rows(records_of(frame), recount(events, days=days))
    assert (frame.attrs["start"], frame.attrs["end"]) == (DAYS[1], DAYS[2])


def test_default_chunks_of_a_thousand(client):
    events = [{"model_id": f"many/m{i:04d}", "timestamp": DAYS[i % 5], "count": 1 + i % 7}
              for i in range(2500)]
    assert client.ingest(events, batch_size=1000)["rejected"] == 0
    calls = []

    frame = client.export(progress=lambda done, total: calls.append((done, total)))

    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]
    assert_rows(records_of(frame), recount(events, lambda m: True))


def test_csv_and_jsonl_files_round_trip(exported, out):
    client, events = exported
    frame = client.export()
    expected = records_of(frame)

    csv_path = out / "models.csv"
    assert client.export(chunk_size=3, path=csv_path) == len(expected)
    read = pd.read_csv(csv_path, dtype={"num_parameters": "Int64"}, keep_default_na=False,
                       na_values={"num_parameters": [""]}, float_precision="round_trip")
    assert list(read.columns) == list(COLUMNS)
    assert read["catalogued"].dtype == bool
    assert records_of(read) == expected  # share_pct exact: floats are written round-trip.

    for name, options in (("models.jsonl", {}), ("models.ndjson", {}),
                          ("models.txt", {"format": "jsonl"})):
        path = out / name
        assert client.export(chunk_size=5, path=str(path), **options) == len(expected)
        lines = path.read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == expected
    forced = out / "models.data"
    assert client.export(path=forced, format="csv") == len(expected)
    assert forced.read_text().startswith(",".join(COLUMNS) + "\n")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["models.csv", "models.jsonl", "models.ndjson", "models.txt", "models.data"])


def test_an_error_midway_leaves_no_file(exported, out):
    client, _ = exported
    path = out / "models.csv"
    path.write_text("the previous export\n")
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == 2:
            raise RuntimeError("disk full, say")

    with pytest.raises(RuntimeError, match="disk full"):
        client.export(chunk_size=3, path=path, progress=progress)

    assert calls == [3, 6]
    assert path.read_text() == "the previous export\n"
    assert [p.name for p in out.iterdir()] == ["models.csv"]
    # The client still works afterwards.
    assert client.export(path=path) == client.totals()["models_with_downloads"]


def test_an_inconsistent_stream_is_refused_and_leaves_no_file(tmp_path):
    def chunk(version, ranks, total=4, downloads=None):
        models = [pb.ExportedModel(rank=r, model_id=f"m/{r}", downloads=10) for r in ranks]
        return pb.ExportChunk(total_models=total,
                              total_downloads=10 * total if downloads is None else downloads,
                              models=models, as_of=pb.AsOf(version=version))

    cases = [
        ([chunk("0:5", [1, 2]), chunk("0:6", [3, 4])], "version '0:6'"),
        ([chunk("0:5", [1, 2]), chunk("0:5", [3, 4], total=5)], "announces 5 models"),
        ([chunk("0:5", [1, 2]), chunk("0:5", [4, 5])], "rank 4 where rank 3 was due"),
        ([chunk("0:5", [2, 3])], "rank 2 where rank 1 was due"),
        ([chunk("0:5", [1, 2])], "2 models with 20 downloads sent, 4 with 40 announced"),
        ([chunk("0:5", [1, 2, 3, 4], downloads=41)], "4 models with 40 downloads sent"),
        ([chunk("0:5", [1, 2], total=1)], "2 models sent, 1 announced"),
        ([], "without a chunk"),
    ]
    for chunks, message in cases:
        with pytest.raises(hubstats.HubstatsError, match=message) as caught:
            list(_export.checked_chunks(chunks))
        assert caught.value.code == grpc.StatusCode.INTERNAL
        path = tmp_path / "models.jsonl"
        with pytest.raises(hubstats.HubstatsError, match=message):
            _export._write(path, "jsonl", _export.checked_chunks(chunks))
        assert list(tmp_path.iterdir()) == []
    assert [c.total_models for c in _export.checked_chunks([chunk("0:5", [1, 2]),
                                                            chunk("0:5", [3, 4])])] == [4, 4]


def test_an_empty_export(exported, tmp_path, capsys):
    client, events = exported
    later = max(e["timestamp"].date() for e in events) + dt.timedelta(days=10)
    calls = []

    frame = client.export(start=later, progress=lambda *args: calls.append(args))

    assert frame.empty and list(frame.columns) == list(COLUMNS)
    assert (frame.attrs["total_models"], frame.attrs["total_downloads"]) == (0, 0)
    assert frame.attrs["data_span"] == (min(e["timestamp"].date() for e in events),
                                        later - dt.timedelta(days=10))
    assert calls == [(0, 0)]  # One (empty) chunk.
    path = tmp_path / "none.csv"
    assert client.export(start=later, path=path, progress=True) == 0
    assert path.read_text() == ",".join(COLUMNS) + "\n"
    assert "exported 0 of 0 models" in capsys.readouterr().err


def test_progress_true_prints_one_line(exported, capsys):
    client, events = exported
    models = len({e["model_id"] for e in events})
    client.export(chunk_size=4, progress=True)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n")
    assert err.count("\r") == -(-models // 4)
    assert f"exported {models} of {models} models (100.0%)" in err


@pytest.mark.parametrize("options, pattern", [
    (dict(chunk_size=0), r"chunk_size: expected a positive int"),
    (dict(chunk_size=-3), r"chunk_size"),
    (dict(chunk_size=2.0), r"chunk_size"),
    (dict(chunk_size=True), r"chunk_size"),
    (dict(path="models.parquet"), r"cannot tell the format of 'models.parquet'"),
    (dict(path="models.txt"), r"cannot tell the format"),
    (dict(path="models.csv", format="xlsx"), r"format must be jsonl or csv"),
    (dict(format="csv"), r"format: only with a path"),
    (dict(progress="yes"), r"progress: expected a callable"),
    (dict(author=5), r"author: expected a string"),
    (dict(task=["x"]), r"task: expected a string"),
    (dict(min_parameters="lots"), r"min_parameters"),
    (dict(max_parameters=1.5), r"max_parameters"),
    (dict(modality="vision"), r"'vision' is not a modality"),
    (dict(start="2024-3-1"), r"start"),
])
def test_argument_errors_are_raised_before_any_call(options, pattern, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with hubstats.Client("127.0.0.1:9", timeout=1) as offline:
        with pytest.raises(ValueError, match=pattern):
            offline.export(**options)
    assert list(tmp_path.iterdir()) == []


def test_top_n_shares_the_filter_checks():
    with hubstats.Client("127.0.0.1:9", timeout=1) as offline:
        with pytest.raises(ValueError, match="author: expected a string"):
            offline.top_n(5, author=5)
        with pytest.raises(ValueError, match="min_parameters"):
            offline.top_n(5, min_parameters="lots")


def test_the_server_checks_chunk_size_and_filters(exported, out):
    client, _ = exported
    path = out / "models.csv"
    with pytest.raises(hubstats.InvalidArgumentError) as caught:
        client.export(chunk_size=20_000, path=path)
    assert [field for field, _ in caught.value.field_violations] == ["chunk_size"]
    assert "20000" in str(caught.value)
    assert list(out.iterdir()) == []
    assert len(client.export(chunk_size=10_000)) == client.totals()["models_with_downloads"]
    with pytest.raises(hubstats.InvalidArgumentError) as caught:
        client.export(min_parameters="1B", max_parameters="1B")
    assert caught.value.field_violations[0][0] == "max_parameters"
    with pytest.raises(hubstats.InvalidArgumentError) as caught:
        client.export(start="2024-03-05", end="2024-03-01")
    assert [field for field, _ in caught.value.field_violations] == ["range.end"]


def test_export_reads_this_clients_writes(client):
    client.ingest([{"model_id": "fresh/one", "timestamp": DAYS[0], "count": 3}])
    frame = client.export()
    assert list(zip(frame["model_id"], frame["downloads"])) == [("fresh/one", 3)]
    assert client.export(fresh=True).attrs["total_downloads"] == 3


def test_a_server_silent_for_the_timeout_ends_the_export(out):
    # A fake server that takes the call and never sends a chunk (until the test ends).
    release = threading.Event()

    class Silent(pb_grpc.QueryServiceServicer):
        def ExportModels(self, request, context):
            release.wait(60)
            return iter(())

    silent = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_QueryServiceServicer_to_server(Silent(), silent)
    port = silent.add_insecure_port("127.0.0.1:0")
    silent.start()
    try:
        with hubstats.Client(f"127.0.0.1:{port}", timeout=0.5) as impatient:
            with pytest.raises(hubstats.HubstatsError) as caught:
                impatient.export(path=out / "models.csv")
    finally:
        release.set()
        silent.stop(0)
    assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "the export sent nothing for 0.5 s" in str(caught.value)
    assert list(out.iterdir()) == []
