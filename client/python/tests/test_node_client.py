"""The Node.js client (client/node/hubstats.js) against a real server.

Loads a realistic small data set (640 events over 57 authors, every modality, every
size class, catalogued and uncatalogued models, a few days), runs the Node CLI with --json and
checks that every number equals what the Python client `hubstats.Client` returns: integers
exactly, shares to 1e-12. Totals, per-author, per-modality and per-size-class downloads are also
checked against a brute-force sum of the events sent. Also: errors (a bad date range, an
unreachable server), int64 values above 2^53, size classes of 7B, 13B, 70B (test_size_boundaries'
data and recomputation); and the trend (--trend, Client.trend) in every
granularity and dimension against the Python client, a brute-force sum and the C++ CLI.

Needs `node` (skipped without it) and `npm ci` in client/node (fails without node_modules).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import grpc
import pandas as pd
import pytest

from hubstats._local import LocalStack, cli_binary, free_port
from test_size_boundaries import (DAYS as OFF_GRID_DAYS, LLM_BOUNDARIES, expected_sizes,
                                  load_off_grid)

REPO = Path(__file__).resolve().parents[3]
NODE_DIR = REPO / "client" / "node"
CLI = NODE_DIR / "hubstats.js"
NODE = shutil.which("node")
NODE_PACKAGES = ("@grpc/grpc-js", "@grpc/proto-loader", "protobufjs")

import hubstats  # noqa: E402
from hubstats.v1 import hubstats_pb2 as pb  # noqa: E402
from hubstats.v1 import hubstats_pb2_grpc as pb_grpc  # noqa: E402

pytestmark = pytest.mark.skipif(
    NODE is None, reason="`node` is not on PATH: the Node.js client cannot be tested")

SHARE_TOLERANCE = 1e-12
MODALITIES = ("nlp", "computer_vision", "audio", "multimodal", "time_series", "tabular",
              "reinforcement_learning", "other", "unknown")
# The built-in task table (service/core/task_modality.tsv) for the tags used below; a tag
# missing from the table counts as "other".
TASK_MODALITY = {
    "text-generation": "nlp", "fill-mask": "nlp", "sentence-similarity": "nlp",
    "image-classification": "computer_vision", "text-to-image": "computer_vision",
    "automatic-speech-recognition": "audio", "image-text-to-text": "multimodal",
    "time-series-forecasting": "time_series", "tabular-classification": "tabular",
    "reinforcement-learning": "reinforcement_learning", "graph-ml": "other",
}
SIZE_CLASSES = (("<200M", 0, 200_000_000), ("200M-500M", 200_000_000, 500_000_000),
                ("500M-1B", 500_000_000, 1_000_000_000), (">=1B", 1_000_000_000, None))
FIRST_DAY = dt.date(2024, 5, 27)
DAYS = 14
# (from, to) for the CLI's --from/--to and the Python client's start/end; None leaves it out.
RANGES = [
    (None, None),
    ("2024-06-01", "2024-06-05"),
    ("2024-06-03", None),
    (None, "2024-05-31"),
    ("2024-06-04", "2024-06-04"),
    ("2030-01-01", "2030-01-31"),  # No downloads: every share is 0.
]


# ---------------------------------------------------------------------------------------------
# Running the CLI
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def node_cli():
    """run(target, *args) -> CompletedProcess of `node client/node/hubstats.js --target ...`."""
    missing = [p for p in NODE_PACKAGES if not (NODE_DIR / "node_modules" / p).is_dir()]
    if missing:
        pytest.fail(f"{NODE_DIR}/node_modules lacks {', '.join(missing)}: "
                    f"run `npm ci` in {NODE_DIR} first", pytrace=False)

    def run(target: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([NODE, str(CLI), "--target", target, *args],
                              capture_output=True, text=True, timeout=timeout)

    return run


def range_args(start: str | None, end: str | None) -> list[str]:
    return ([] if start is None else ["--from", start]) + ([] if end is None else ["--to", end])


def node_json(node_cli, target: str, start=None, end=None) -> dict:
    result = node_cli(target, "--json", *range_args(start, end))
    assert result.returncode == 0, f"node client failed ({result.returncode}):\n{result.stderr}"
    # Python's json keeps integers exact at any size; a lossy int64 -> double conversion in the
    # client would show as a different int (or a float such as 1e+16).
    return json.loads(result.stdout)


# ---------------------------------------------------------------------------------------------
# The data set
# ---------------------------------------------------------------------------------------------

def catalog_and_events(seed: int = 20240601) -> tuple[list[dict], list[dict], list[str]]:
    """(catalog records, events, uncatalogued model ids): 640 events over 57 authors (58 in the
    catalog)."""
    rng = random.Random(seed)
    records = [
        # Pipeline tags resolved through the task table, sizes on and around the boundaries.
        {"model_id": "meta-llama/Llama-3-8B", "pipeline_tag": "text-generation",
         "num_parameters": 8_030_261_248, "architecture": "decoder", "library_name": "transformers"},
        {"model_id": "meta-llama/Llama-3-70B", "pipeline_tag": "text-generation",
         "num_parameters": 70_553_706_496},
        {"model_id": "google/bert-large", "pipeline_tag": "fill-mask",
         "num_parameters": 336_000_000, "architecture": "encoder"},
        {"model_id": "google/vit-base-patch16-224", "pipeline_tag": "image-classification",
         "num_parameters": 86_600_000},
        {"model_id": "google/t5-edge", "pipeline_tag": "text-generation",
         "num_parameters": 200_000_000},   # Exactly a boundary: in 200M-500M.
        {"model_id": "google/almost-200m", "pipeline_tag": "fill-mask",
         "num_parameters": 199_999_999},   # Just below: in <200M.
        {"model_id": "openai/whisper-large-v3", "pipeline_tag": "automatic-speech-recognition",
         "num_parameters": 1_550_000_000},
        {"model_id": "openai/clip-vit-large", "modality": "multimodal",
         "num_parameters": 427_616_513},
        {"model_id": "stabilityai/sdxl", "pipeline_tag": "text-to-image",
         "num_parameters": 999_999_999},   # Just below 1B.
        {"model_id": "stabilityai/sd-turbo", "pipeline_tag": "text-to-image",
         "num_parameters": 500_000_000},   # Exactly 500M.
        {"model_id": "amazon/chronos-t5", "pipeline_tag": "time-series-forecasting",
         "num_parameters": 46_000_000},
        {"model_id": "autogluon/tabpfn", "pipeline_tag": "tabular-classification"},  # Size unknown.
        {"model_id": "sb3/ppo-cartpole", "pipeline_tag": "reinforcement-learning",
         "num_parameters": 1_000},
        {"model_id": "llava-hf/llava-1.5-7b", "pipeline_tag": "image-text-to-text",
         "num_parameters": 7_063_427_072},
        {"model_id": "snap/graph-model", "pipeline_tag": "graph-ml", "num_parameters": 0},
        {"model_id": "weird/tagged", "pipeline_tag": "no-such-task",     # Not in the table: other.
         "num_parameters": 1_000_000_000},  # Exactly 1B.
        # Explicit modality wins over the pipeline tag.
        {"model_id": "sentence-transformers/all-MiniLM-L6-v2", "pipeline_tag": "sentence-similarity",
         "modality": "audio", "num_parameters": 22_700_000},
        # Bare ids: author "(canonical)".
        {"model_id": "gpt2", "pipeline_tag": "text-generation", "num_parameters": 124_439_808},
        {"model_id": "bert-base-uncased", "pipeline_tag": "fill-mask",
         "num_parameters": 110_000_000},
    ]
    uncatalogued = ["mystery/model-a", "mystery/model-b", "distilgpt2"]
    # Many small authors so that the top 50 leaves some out; some tie on downloads.
    small = [f"user-{i:02d}/model" for i in range(45)]
    for i, model_id in enumerate(small):
        tag = rng.choice(sorted(TASK_MODALITY))
        record = {"model_id": model_id, "pipeline_tag": tag}
        if i % 3:
            record["num_parameters"] = rng.choice([3_000_000, 250_000_000, 600_000_000,
                                                   13_000_000_000])
        if i % 7 == 0:
            record["modality"] = rng.choice(MODALITIES[:-1])
        records.append(record)

    weights = {r["model_id"]: 1.0 for r in records}
    weights.update({"meta-llama/Llama-3-8B": 30, "google/bert-large": 20, "gpt2": 25,
                    "openai/whisper-large-v3": 10, "stabilityai/sdxl": 8})
    weights.update({m: 2.0 for m in uncatalogued})
    models = sorted(weights)

    def timestamp(day: int) -> dt.datetime:
        base = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time(),
                                   tzinfo=dt.timezone.utc)
        # Include the first and last second of the day, where a range boundary cuts.
        second = rng.choice([0, 86_399, rng.randrange(86_400)])
        return base + dt.timedelta(seconds=second)

    events = []
    for _ in range(650):
        model_id = rng.choices(models, [weights[m] for m in models])[0]
        event = {"model_id": model_id, "timestamp": timestamp(rng.randrange(DAYS))}
        kind = rng.random()
        if kind < 0.1:
            pass  # count left out: 1 download.
        elif kind < 0.11:
            event["count"] = rng.randrange(1_000_000, 20_000_000)  # A burst (a CI farm, say).
        else:
            event["count"] = rng.randrange(1, 50_000)
        if rng.random() < 0.3:
            event["revision"] = rng.choice(["main", "v1.0", "3f1c2a9"])
        events.append(event)
    # Tied authors: three small authors get exactly 123,456 downloads on one day each (ranked
    # within the top 50, ties by id).
    for model_id in ("user-40/model", "user-41/model", "user-42/model"):
        events = [e for e in events if e["model_id"] != model_id]
        events.append({"model_id": model_id, "timestamp": timestamp(5), "count": 123_456})
    return records, events, uncatalogued


def author_of(model_id: str) -> str:
    return model_id.split("/")[0] if "/" in model_id else "(canonical)"


def modality_of(record: dict | None) -> str:
    if record is None:
        return "unknown"
    return record.get("modality") or TASK_MODALITY.get(record.get("pipeline_tag", ""), "other")


def brute_force(records, events, start, end) -> dict:
    """Expected downloads computed directly from the data sent."""
    by_id = {r["model_id"]: r for r in records}
    lo = dt.date.min if start is None else dt.date.fromisoformat(start)
    hi = dt.date.max if end is None else dt.date.fromisoformat(end)
    per_model = Counter()
    for e in events:
        if lo <= e["timestamp"].astimezone(dt.timezone.utc).date() <= hi:
            per_model[e["model_id"]] += e.get("count", 1)
    authors, modalities, sizes = Counter(), Counter(), Counter()
    unknown_size = 0
    for model_id, downloads in per_model.items():
        record = by_id.get(model_id)
        authors[author_of(model_id)] += downloads
        modalities[modality_of(record)] += downloads
        parameters = (record or {}).get("num_parameters", 0)
        if not parameters:
            unknown_size += downloads
            continue
        for label, lower, upper in SIZE_CLASSES:
            if lower <= parameters and (upper is None or parameters < upper):
                sizes[label] += downloads
    return {"total": sum(per_model.values()), "authors": authors, "modalities": modalities,
            "sizes": sizes, "unknown_size": unknown_size}


@pytest.fixture(scope="module")
def loaded(redis, tmp_path_factory):
    """A server (own Redis prefix) loaded with the data set through hubstats.Client."""
    with LocalStack(tmp_path_factory.mktemp("node")) as stack:
        server = stack.start_server(redis.url, f"node{os.getpid()}")
        records, events, uncatalogued = catalog_and_events()
        with hubstats.Client(server.target) as client:
            upserted = client.upsert_models(records)
            assert (upserted["accepted"], upserted["rejected"]) == (len(records), 0), upserted
            ingested = client.ingest(events, batch_size=97)  # Several batches.
            assert (ingested["accepted"], ingested["rejected"]) == (len(events), 0), ingested
            assert ingested["accepted_downloads"] == sum(e.get("count", 1) for e in events)
        yield server, records, events


# ---------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------

def assert_share(actual, expected, what: str) -> None:
    assert isinstance(actual, (int, float)) and not isinstance(actual, bool), (what, actual)
    assert abs(actual - expected) <= SHARE_TOLERANCE, f"{what}: node {actual!r} != python {expected!r}"


def assert_int(actual, expected, what: str) -> None:
    # JSON integers only: a float here means the client printed an int64 as a double.
    assert type(actual) is int, f"{what}: {actual!r} is not a JSON integer"
    assert actual == int(expected), f"{what}: node {actual} != python {expected}"


def python_answers(target: str, start, end) -> dict:
    with hubstats.Client(target) as client:
        return {"modality": client.modality_share(start=start, end=end),
                "sizes": client.size_distribution(start=start, end=end),
                "top": client.top_n(n=50, by="author", start=start, end=end)}


def compare_with_python(doc: dict, py: dict) -> None:
    """Every number of the Node client's --json document equals the Python client's."""
    assert set(doc) == {"modality", "sizes", "top_authors"}

    modality, frame = doc["modality"], py["modality"]
    assert set(modality) == {"total_downloads", "rows"}
    assert_int(modality["total_downloads"], frame.attrs["total_downloads"], "modality total")
    if frame.empty:  # Python answers a range without downloads with no rows.
        assert frame.attrs["data_span"] is not None
        assert all(row["downloads"] == 0 for row in modality["rows"])
        frame = pd.DataFrame({"modality": [r["modality"] for r in modality["rows"]],
                              "downloads": 0, "share_pct": 0.0})
    assert [r["modality"] for r in modality["rows"]] == list(frame["modality"])
    for row, expected in zip(modality["rows"], frame.to_dict("records"), strict=True):
        assert set(row) == {"modality", "downloads", "share_pct"}
        what = f"modality {row['modality']}"
        assert_int(row["downloads"], expected["downloads"], what)
        assert_share(row["share_pct"], expected["share_pct"], what)

    sizes, frame = doc["sizes"], py["sizes"]
    assert set(sizes) == {"total_downloads", "known_downloads", "unknown_downloads",
                          "unknown_share_pct", "rows"}
    for key in ("total_downloads", "known_downloads", "unknown_downloads"):
        assert_int(sizes[key], frame.attrs[key], f"sizes {key}")
    assert_share(sizes["unknown_share_pct"], frame.attrs["unknown_share_pct"], "unknown share")
    if frame.empty:
        assert all(row["downloads"] == 0 for row in sizes["rows"])
        return compare_top(doc, py)
    assert [r["label"] for r in sizes["rows"]] == list(frame["label"])
    for row, expected in zip(sizes["rows"], frame.to_dict("records"), strict=True):
        assert set(row) == {"label", "lower", "upper", "downloads", "share_pct",
                            "share_of_known_pct", "cumulative_pct"}
        what = f"size class {row['label']}"
        assert_int(row["lower"], expected["lower"], what + " lower")
        if pd.isna(expected["upper"]):
            assert row["upper"] is None, f"{what}: upper {row['upper']!r}, expected null"
        else:
            assert_int(row["upper"], expected["upper"], what + " upper")
        assert_int(row["downloads"], expected["downloads"], what)
        for key in ("share_pct", "share_of_known_pct", "cumulative_pct"):
            assert_share(row[key], expected[key], f"{what} {key}")

    compare_top(doc, py)


def compare_top(doc: dict, py: dict) -> None:
    top, frame = doc["top_authors"], py["top"]
    assert set(top) == {"total_downloads", "top_downloads", "top_share_pct", "rows"}
    assert_int(top["total_downloads"], frame.attrs["total_downloads"], "top total")
    assert_int(top["top_downloads"], frame.attrs["top_downloads"], "top downloads")
    assert_share(top["top_share_pct"], frame.attrs["top_share_pct"], "top_share_pct")
    assert [r["id"] for r in top["rows"]] == list(frame["id"])
    for row, expected in zip(top["rows"], frame.to_dict("records"), strict=True):
        assert set(row) == {"rank", "id", "downloads", "share_pct", "cumulative_pct"}
        what = f"top author {row['id']}"
        assert_int(row["rank"], expected["rank"], what + " rank")
        assert_int(row["downloads"], expected["downloads"], what)
        assert_share(row["share_pct"], expected["share_pct"], what + " share_pct")
        assert_share(row["cumulative_pct"], expected["cumulative_pct"], what + " cumulative_pct")


def compare_with_brute_force(doc: dict, expected: dict) -> None:
    total = expected["total"]
    for part in ("modality", "sizes", "top_authors"):
        assert doc[part]["total_downloads"] == total, part

    rows = doc["modality"]["rows"]
    assert sorted(r["modality"] for r in rows) == sorted(MODALITIES)
    assert {r["modality"]: r["downloads"] for r in rows} == \
        {m: expected["modalities"].get(m, 0) for m in MODALITIES}
    assert [r["downloads"] for r in rows] == sorted((r["downloads"] for r in rows), reverse=True)

    sizes = doc["sizes"]
    assert sizes["unknown_downloads"] == expected["unknown_size"]
    assert sizes["known_downloads"] == total - expected["unknown_size"]
    assert [(r["label"], r["lower"], r["upper"]) for r in sizes["rows"]] == list(SIZE_CLASSES)
    assert {r["label"]: r["downloads"] for r in sizes["rows"]} == \
        {label: expected["sizes"].get(label, 0) for label, _, _ in SIZE_CLASSES}

    ranked = sorted(((d, a) for a, d in expected["authors"].items() if d),
                    key=lambda da: (-da[0], da[1].encode()))[:50]
    top = doc["top_authors"]["rows"]
    assert [(r["rank"], r["id"], r["downloads"]) for r in top] == \
        [(i + 1, a, d) for i, (d, a) in enumerate(ranked)]
    for r in top:  # Shares follow from the exact counts (to a few ulps of the division).
        assert r["share_pct"] == pytest.approx(100 * r["downloads"] / total if total else 0,
                                               rel=1e-12, abs=1e-12)
    if total == 0:
        assert all(r["share_pct"] == 0 for r in doc["modality"]["rows"] + sizes["rows"])


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

def test_data_set_is_realistic(loaded):
    _, records, events = loaded
    everything = brute_force(records, events, None, None)
    assert len(events) >= 300
    assert len(everything["authors"]) > 50           # The top 50 leaves authors out.
    ties = [a for a, d in everything["authors"].items() if d == 123_456]
    assert ties == ["user-40", "user-41", "user-42"]
    ranked = sorted(everything["authors"], key=lambda a: -everything["authors"][a])
    assert ranked.index("user-42") < 50             # The tie is inside the top 50.
    assert all(everything["modalities"][m] > 0 for m in MODALITIES)
    assert all(everything["sizes"][label] > 0 for label, _, _ in SIZE_CLASSES)
    assert everything["unknown_size"] > 0


@pytest.mark.parametrize("start,end", RANGES, ids=lambda v: v or "open")
def test_json_equals_python_client(node_cli, loaded, start, end):
    server, records, events = loaded
    doc = node_json(node_cli, server.target, start, end)
    compare_with_python(doc, python_answers(server.target, start, end))
    compare_with_brute_force(doc, brute_force(records, events, start, end))


def test_human_readable_output(node_cli, loaded):
    server, records, events = loaded
    result = node_cli(server.target)
    assert result.returncode == 0, result.stderr
    total = brute_force(records, events, None, None)["total"]
    out = result.stdout
    assert "Modality share (all time)" in out and "Size distribution" in out
    assert "Top 50 organisations" in out
    assert f"{total:,} downloads" in out
    for label, _, _ in SIZE_CLASSES:
        assert label in out
    assert "meta-llama" in out and "(canonical)" in out


def test_bad_date_range_reports_the_field(node_cli, loaded):
    server, _, _ = loaded
    # The Python client sees the same refusal; the Node client must name the same field.
    with hubstats.Client(server.target) as client:
        with pytest.raises(hubstats.InvalidArgumentError) as refused:
            client.modality_share(start="2024-06-05", end="2024-06-01")
    fields = [field for field, _ in refused.value.field_violations]
    assert fields == ["range.end"]

    result = node_cli(server.target, "--json", "--from", "2024-06-05", "--to", "2024-06-01")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "invalid argument" in result.stderr
    assert "range.end" in result.stderr
    description = refused.value.field_violations[0][1]
    assert description in result.stderr

    result = node_cli(server.target, "--from", "2024-02-30")  # Not a day: the server says so.
    assert result.returncode == 1
    assert "range.start" in result.stderr


def test_usage_errors(node_cli):
    result = node_cli("127.0.0.1:1", "--from", "June 1st")
    assert result.returncode == 2
    assert "--from" in result.stderr and "YYYY-MM-DD" in result.stderr
    result = subprocess.run([NODE, str(CLI)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--target" in result.stderr


def test_unreachable_server(node_cli):
    target = f"127.0.0.1:{free_port()}"  # Nothing listens there.
    result = node_cli(target, "--json", "--timeout", "5", timeout=30)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert target in result.stderr and "UNAVAILABLE" in result.stderr
    assert "    at " not in result.stderr  # A message, not a stack trace.


def test_int64_above_2_pow_53_is_exact(node_cli, make_server):
    """A total of 9,099,999,000,000,001 downloads (> 2^53 and odd, so no double holds it) is
    printed exactly, as JSON integers and in the tables.

    The server keeps each author's all-time count at most 2^53 - 1 (service/core/event.h), so
    the total passes 2^53 over two authors: bigcorp 9.0e15, othercorp 9.9999e13, smallcorp 1.
    """
    server = make_server()
    models = {"bigcorp/huge-model": 9_000_000, "othercorp/large-model": 99_999}  # x 10^9.
    with hubstats.Client(server.target) as client:
        assert client.upsert_models([
            {"model_id": m, "pipeline_tag": "text-generation", "num_parameters": 7_000_000_000}
            for m in models])["accepted"] == 2
    # Events of 10^9 downloads (the most one event may carry) sent with the raw stubs, reusing
    # one message per batch: 9.1 million dict-built events would take minutes.
    when = {"seconds": int(dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc).timestamp())}

    def events(model_id: str, n: int) -> list:
        return [pb.DownloadEvent(model_id=model_id, count=10**9, timestamp=when)] * n

    full = pb.IngestRequest(events=events("bigcorp/huge-model", 100_000))
    rest = pb.IngestRequest(events=events("othercorp/large-model", 99_999) + [
        pb.DownloadEvent(model_id="smallcorp/tiny-model", count=1, timestamp=when)])
    with grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.IngestServiceStub(channel)
        responses = list(stub.StreamEvents(iter([full] * 90 + [rest]), timeout=600))
    assert [r.rejections for r in responses if r.rejected] == []
    big, other, total = 9 * 10**15, 99_999 * 10**9, 9 * 10**15 + 99_999 * 10**9 + 1
    assert total == 9_099_999_000_000_001 and total > 2**53 and float(total) != total
    assert sum(r.accepted_downloads for r in responses) == total

    doc = node_json(node_cli, server.target)
    compare_with_python(doc, python_answers(server.target, None, None))
    assert doc["modality"]["total_downloads"] == total
    assert {r["modality"]: r["downloads"] for r in doc["modality"]["rows"]} == \
        {**{m: 0 for m in MODALITIES}, "nlp": big + other, "unknown": 1}
    assert (doc["sizes"]["total_downloads"], doc["sizes"]["known_downloads"],
            doc["sizes"]["unknown_downloads"]) == (total, big + other, 1)
    assert {r["label"]: r["downloads"] for r in doc["sizes"]["rows"]}[">=1B"] == big + other
    assert doc["top_authors"]["total_downloads"] == total
    assert [(r["id"], r["downloads"]) for r in doc["top_authors"]["rows"]] == \
        [("bigcorp", big), ("othercorp", other), ("smallcorp", 1)]

    result = node_cli(server.target)
    assert result.returncode == 0, result.stderr
    assert "9,099,999,000,000,001 downloads" in result.stdout
    assert "9,099,999,000,000,000" in result.stdout  # nlp and >=1B rows.


def readme_example(name: str) -> str:
    """The code block of client/node/README.md marked <!-- name -->, as written."""
    readme = (NODE_DIR / "README.md").read_text()
    marker = f"<!-- {name} -->\n```js\n"
    assert marker in readme, f"README.md has no {name} example"
    start = readme.index(marker) + len(marker)
    return readme[start:readme.index("```", start)]


@pytest.mark.parametrize("name", ["example.cjs", "example.mjs"])
def test_readme_examples_run_as_written(node_cli, loaded, tmp_path, name):
    """The README's library examples, saved "in this folder" (beside hubstats.js: here a
    symlink to it), print what the Python client answers."""
    server = loaded[0]
    (tmp_path / "hubstats.js").symlink_to(CLI)
    (tmp_path / name).write_text(readme_example(name))
    result = subprocess.run([NODE, name], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "HUBSTATS_TARGET": server.target})
    assert result.returncode == 0, result.stderr
    with hubstats.Client(server.target) as client:
        share = client.modality_share("2024-06-01", "2024-06-30")
        top = client.top_n(10)
    expected = [f"{row.modality}\t{row.downloads}\t{row.share_pct:.2f}%"
                for row in share.itertuples()]
    expected += [f"{row.rank}\t{row.id}\t{row.downloads}" for row in top.itertuples()]
    assert len(share) == 9 and len(top) == 10
    assert result.stdout.splitlines() == expected


def test_json_parts_equal_the_cpp_clis(node_cli, loaded):
    """Node's --json document holds, part by part, exactly the C++ CLI's --json answers."""
    server = loaded[0]
    doc = node_json(node_cli, server.target)

    def cli(*args):
        result = subprocess.run([str(cli_binary()), "--target", server.target, *args, "--json"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    assert doc["modality"] == cli("modality")
    assert doc["sizes"] == cli("sizes")
    assert doc["top_authors"] == cli("top", "--by", "author", "--n", "50")
    assert list(doc["sizes"]) == list(cli("sizes"))  # The same fields in the same order.


def test_sizes_with_off_grid_boundaries(node_cli, make_server, tmp_path):
    """sizeDistribution (the library: the CLI's --boundaries is --trend's) with 7B, 13B, 70B
    counts each class as test_size_boundaries' pandas recomputation of its catalog, whose
    models sit one below, on and one above each boundary."""
    server = make_server()
    records, events = load_off_grid(server.target)
    days = (OFF_GRID_DAYS[1], OFF_GRID_DAYS[2])
    script = tmp_path / "sizes.cjs"
    script.write_text(
        f"const {{ Client, makeRange, toJson }} = require({json.dumps(str(CLI))});\n"
        "const client = new Client(process.env.HUBSTATS_TARGET);\n"
        "Promise.all([null, makeRange(process.argv[2], process.argv[3])].map(\n"
        "  (range) => client.sizeDistribution(range, ['7B', '13B', '70B'])))\n"
        "  .then((answers) => console.log(toJson(answers))).finally(() => client.close());\n")
    result = subprocess.run([NODE, str(script), *(day.isoformat() for day in days)],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "HUBSTATS_TARGET": server.target})
    assert result.returncode == 0, result.stderr
    for answer, (start, end) in zip(json.loads(result.stdout), [(None, None), days], strict=True):
        expected, unknown = expected_sizes(records, events, LLM_BOUNDARIES, start, end)
        rows = answer["rows"]
        assert all(type(row[key]) is int for row in rows for key in ("lower", "downloads"))
        assert answer["boundaries"] == LLM_BOUNDARIES
        assert [row["label"] for row in rows] == ["<7B", "7B-13B", "13B-70B", ">=70B"]
        pd.testing.assert_frame_equal(pd.DataFrame({
            "lower": pd.Series([row["lower"] for row in rows], dtype="int64"),
            "upper": pd.Series([row["upper"] for row in rows], dtype="Int64"),
            "downloads": pd.Series([row["downloads"] for row in rows], dtype="int64")}), expected)
        assert answer["unknown_downloads"] == unknown


# ---------------------------------------------------------------------------------------------
# Trends (--trend, Client.trend)
# ---------------------------------------------------------------------------------------------

# (granularity, dimension, more CLI arguments, the same for the Python client)
TRENDS = [
    ("day", "modality", [], {}),
    ("week", "size", ["--boundaries", "100M,1B"], {"boundaries": ["100M", "1B"]}),
    ("month", "task", [], {}),
    ("week", "architecture", ["--modality", "nlp"], {"modality": "nlp"}),
    ("day", "top-models", ["--n", "3", "--from", "2024-06-01", "--to", "2024-06-05"],
     {"n": 3, "start": "2024-06-01", "end": "2024-06-05"}),
    ("week", "top-authors", ["--n", "50"], {"n": 50}),
    ("month", "library", ["--from", "2024-05-01", "--to", "2024-07-31"],
     {"start": "2024-05-01", "end": "2024-07-31"}),  # July: a period without downloads
]


def node_trend(node_cli, target: str, granularity: str, dimension: str, *args: str) -> dict:
    result = node_cli(target, "--json", "--trend", granularity, "--by", dimension, *args)
    assert result.returncode == 0, f"node client failed ({result.returncode}):\n{result.stderr}"
    return json.loads(result.stdout)


def compare_trend_with_python(doc: dict, frame: pd.DataFrame) -> None:
    """Every number of Node's --trend --json document equals the Python client's trend."""
    assert list(doc) == ["granularity", "dimension", "keys", "periods"]
    assert (doc["granularity"], doc["dimension"]) == (frame.attrs["granularity"],
                                                      frame.attrs["dimension"])
    assert doc["keys"] == frame.attrs["keys"]
    keys = doc["keys"]
    assert len(frame) == len(doc["periods"]) * len(keys)
    for index, period in enumerate(doc["periods"]):
        assert list(period) == ["start", "first_day", "last_day", "total_downloads", "values"]
        rows = frame.iloc[index * len(keys):(index + 1) * len(keys)]
        for field, column in (("start", "period_start"), ("first_day", "first_day"),
                              ("last_day", "last_day")):
            assert {period[field]} == {day.isoformat() for day in rows[column]}
        assert_int(period["total_downloads"], rows["downloads"].sum(), period["start"])
        assert [v["key"] for v in period["values"]] == list(rows["key"]) == keys
        for value, row in zip(period["values"], rows.itertuples(), strict=True):
            assert list(value) == ["key", "downloads", "share_pct"]
            what = f"{period['start']} {value['key']}"
            assert_int(value["downloads"], row.downloads, what)
            assert_share(value["share_pct"], row.share_pct, what)


@pytest.mark.parametrize("granularity,dimension,args,options", TRENDS,
                         ids=[f"{g}-{d}" for g, d, _, _ in TRENDS])
def test_trend_json_equals_python_client(node_cli, loaded, granularity, dimension, args,
                                         options):
    server = loaded[0]
    doc = node_trend(node_cli, server.target, granularity, dimension, *args)
    with hubstats.Client(server.target) as client:
        frame = client.trend(granularity=granularity, dimension=dimension, **options)
    compare_trend_with_python(doc, frame)


def test_trend_equals_a_brute_force_sum(node_cli, loaded):
    """Modality downloads per ISO week (Mondays 27 May and 3 Jun 2024) from the events."""
    server, records, events = loaded
    doc = node_trend(node_cli, server.target, "week", "modality")
    mondays = [FIRST_DAY, FIRST_DAY + dt.timedelta(days=7)]
    assert FIRST_DAY.weekday() == 0
    assert [p["start"] for p in doc["periods"]] == [day.isoformat() for day in mondays]
    for period, monday in zip(doc["periods"], mondays):
        sunday = monday + dt.timedelta(days=6)
        expected = brute_force(records, events, monday.isoformat(), sunday.isoformat())
        assert (period["first_day"], period["last_day"]) == (monday.isoformat(),
                                                            sunday.isoformat())
        assert period["total_downloads"] == expected["total"]
        assert {v["key"]: v["downloads"] for v in period["values"]} == \
            {m: expected["modalities"].get(m, 0) for m in MODALITIES}


def test_trend_without_downloads(node_cli, loaded):
    """A range without downloads: every period present with zeros (the Python client answers
    it with no rows and says where the data are)."""
    server = loaded[0]
    doc = node_trend(node_cli, server.target, "month", "modality", "--from", "2030-01-01",
                     "--to", "2030-03-31")
    assert [p["start"] for p in doc["periods"]] == ["2030-01-01", "2030-02-01", "2030-03-01"]
    assert all(p["total_downloads"] == 0 and all(v["downloads"] == 0 and v["share_pct"] == 0
                                                 for v in p["values"])
               for p in doc["periods"])
    with hubstats.Client(server.target) as client:
        frame = client.trend("2030-01-01", "2030-03-31")
    assert frame.empty and frame.attrs["data_span"] is not None
    result = node_cli(server.target, "--trend", "month", "--from", "2030-01-01", "--to",
                      "2030-03-31")
    assert result.returncode == 0 and "No downloads" in result.stdout


@pytest.mark.parametrize("granularity,dimension,args,options", TRENDS,
                         ids=[f"{g}-{d}" for g, d, _, _ in TRENDS])
def test_trend_json_equals_the_cpp_clis(node_cli, loaded, granularity, dimension, args,
                                        options):
    server = loaded[0]
    doc = node_trend(node_cli, server.target, granularity, dimension, *args)
    result = subprocess.run([str(cli_binary()), "--target", server.target, "trend",
                             "--granularity", granularity, "--by", dimension, *args, "--json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert doc == json.loads(result.stdout)


def test_trend_tables(node_cli, loaded):
    server = loaded[0]
    result = node_cli(server.target, "--trend", "week")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Download share by modality per week (2024-05-27..2024-06-09)"
    assert lines[2].split()[:4] == ["ISO", "week", "downloads", lines[2].split()[3]]
    assert [line.split()[0] for line in lines[4:]] == ["2024-W22", "2024-W23"]
    assert lines[2].split()[-1] == "others"  # Nine modalities: the ninth under "others".
    result = node_cli(server.target, "--trend", "month", "--by", "top-authors", "--n", "5")
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[4:]] == ["2024-05", "2024-06"]
    assert "top 5" in result.stdout and "rest" in result.stdout


def test_trend_usage_errors(node_cli):
    for args, message in [
            (["--trend", "quarter"], "--trend: expected one of day, week, month"),
            (["--trend", "week", "--by", "organisation"],
             "--by: expected one of modality, size, task, architecture, library, top-models, "
             "top-authors"),
            (["--trend", "week", "--modality", "speech"], "--modality: expected one of nlp"),
            (["--trend", "week", "--n", "0"], "--n must be a positive integer"),
            (["--by", "size"], "--by needs --trend")]:
        result = node_cli("127.0.0.1:1", *args)
        assert result.returncode == 2, args
        assert message in result.stderr, result.stderr


def test_trend_refusals_name_the_field(node_cli, loaded):
    server = loaded[0]
    result = node_cli(server.target, "--trend", "day", "--from", "2020-01-01", "--to",
                      "2024-12-31")
    assert result.returncode == 1
    assert "invalid argument in GetTrend" in result.stderr and "  range: " in result.stderr


def test_readme_trend_example_runs_as_written(node_cli, loaded, tmp_path):
    server = loaded[0]
    (tmp_path / "hubstats.js").symlink_to(CLI)
    (tmp_path / "example-trend.cjs").write_text(readme_example("example-trend.cjs"))
    result = subprocess.run([NODE, "example-trend.cjs"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60,
                            env={**os.environ, "HUBSTATS_TARGET": server.target})
    assert result.returncode == 0, result.stderr
    with hubstats.Client(server.target) as client:
        frame = client.trend("2024-06-01", "2024-06-30", granularity="week")
    expected = []
    for start, rows in frame.groupby("period_start", sort=False):
        shares = ", ".join(f"{row.key} {row.share_pct:.2f}%" for row in rows.itertuples())
        expected.append(f"{start.isoformat()}\t{rows['downloads'].sum()}\t{shares}")
    assert len(expected) == 5  # ISO weeks of 27 May (cut to 1-2 Jun) to 24 Jun
    assert result.stdout.splitlines() == expected
