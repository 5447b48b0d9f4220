"""hubstats.Client against a real hubstats-server backed by a real Redis (fixtures in conftest).

Expected values are computed here from the events and records each test sends.
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import time

import grpc
import pandas as pd
import pytest

import hubstats
from hubstats.client import MAX_BATCHES_IN_FLIGHT

DAYS = [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(5)]

# The catalog of the `loaded` fixture: model id -> record (None: not catalogued), with the
# modality and size each record must resolve to (pipeline tags as in the built-in task table).
CATALOG = {
    "acme/chat-7b": dict(pipeline_tag="text-generation", num_parameters=7e9,
                         architecture="decoder", library_name="transformers"),
    "acme/vit-base": dict(modality="cv", num_parameters=86_000_000, architecture="encoder",
                          library_name="timm"),
    "acme/whisper-small": dict(pipeline_tag="automatic-speech-recognition",
                               num_parameters="244M", architecture="encoder-decoder",
                               library_name="transformers"),
    "beta/clip": dict(modality="multimodal", num_parameters=500_000_000),   # On a boundary.
    "beta/tiny": dict(modality="nlp", num_parameters=200_000_000),          # On a boundary.
    "beta/mystery": dict(pipeline_tag="made-up-task"),                      # other, size unknown
    "gamma/forecaster": dict(modality="time_series", num_parameters=1_000_000_000,
                             architecture="other"),
    "legacy-model": None,
    "gamma/orphan": None,
}
MODALITY = {"acme/chat-7b": "nlp", "acme/vit-base": "computer_vision",
            "acme/whisper-small": "audio", "beta/clip": "multimodal", "beta/tiny": "nlp",
            "beta/mystery": "other", "gamma/forecaster": "time_series",
            "legacy-model": "unknown", "gamma/orphan": "unknown"}
PARAMETERS = {"acme/chat-7b": 7_000_000_000, "acme/vit-base": 86_000_000,
              "acme/whisper-small": 244_000_000, "beta/clip": 500_000_000,
              "beta/tiny": 200_000_000, "gamma/forecaster": 1_000_000_000}


def author_of(model_id: str) -> str:
    return model_id.split("/")[0] if "/" in model_id else "(canonical)"


def records() -> list[dict]:
    return [{"model_id": model_id, **record} for model_id, record in CATALOG.items() if record]


def make_events(seed: int = 1, per_model: int = 40) -> list[dict]:
    rng = random.Random(seed)
    events = []
    for model_id in CATALOG:
        for _ in range(per_model):
            events.append({
                "model_id": model_id,
                "timestamp": dt.datetime.combine(rng.choice(DAYS), dt.time(rng.randrange(24)),
                                                 tzinfo=dt.timezone.utc),
                "count": rng.randint(1, 1000),
                "revision": rng.choice(["main", "v1.0", None]),
            })
    rng.shuffle(events)
    return events


def downloads_by(events, key, days=None) -> collections.Counter:
    """Downloads summed by key(event), over events whose UTC day is in `days` (all if None)."""
    totals = collections.Counter()
    for event in events:
        if days is None or event["timestamp"].date() in days:
            totals[key(event)] += event.get("count", 1)
    return totals


def ranked(counter: collections.Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0].encode()))


def assert_dtypes(frame: pd.DataFrame, expected: dict[str, str]) -> None:
    assert list(frame.columns) == list(expected)
    assert {column: str(dtype) for column, dtype in frame.dtypes.items()} == expected
    for column, dtype in expected.items():
        if dtype == "object":
            assert all(isinstance(value, str) for value in frame[column])


@pytest.fixture
def client(server):
    with hubstats.Client(server.target) as client:
        yield client


@pytest.fixture
def loaded(client):
    """A client of a server holding CATALOG and make_events(); returns (client, events)."""
    events = make_events()
    assert client.upsert_models(records())["accepted"] == len(records())
    summary = client.ingest(events, batch_size=97)
    assert summary["rejected"] == 0, summary["errors"][:3]
    return client, events


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

def test_modality_share(loaded):
    client, events = loaded
    expected = downloads_by(events, lambda e: MODALITY[e["model_id"]])
    total = sum(expected.values())

    share = client.modality_share()

    assert_dtypes(share, {"modality": "object", "downloads": "int64", "share_pct": "float64"})
    assert sorted(share["modality"]) == sorted(hubstats.MODALITY_NAMES)
    assert dict(zip(share["modality"], share["downloads"])) == {
        name: expected.get(name, 0) for name in hubstats.MODALITY_NAMES}
    for name, pct in zip(share["modality"], share["share_pct"]):
        assert pct == pytest.approx(100 * expected.get(name, 0) / total)
    assert list(share["downloads"]) == sorted(share["downloads"], reverse=True)
    assert share.attrs["total_downloads"] == total


def test_size_distribution_default_boundaries(loaded):
    client, events = loaded
    per_model = downloads_by(events, lambda e: e["model_id"])
    total = sum(per_model.values())
    classes = [("<200M", 0, 200_000_000), ("200M-500M", 200_000_000, 500_000_000),
               ("500M-1B", 500_000_000, 1_000_000_000), (">=1B", 1_000_000_000, None)]
    expected = {label: sum(d for m, d in per_model.items() if m in PARAMETERS
                           and lower <= PARAMETERS[m] and (upper is None or PARAMETERS[m] < upper))
                for label, lower, upper in classes}
    known = sum(d for m, d in per_model.items() if m in PARAMETERS)

    sizes = client.size_distribution()

    assert_dtypes(sizes, {"label": "object", "lower": "int64", "upper": "Int64",
                          "downloads": "int64", "share_pct": "float64",
                          "share_of_known_pct": "float64", "cumulative_pct": "float64"})
    assert list(sizes["label"]) == [label for label, _, _ in classes]
    assert list(sizes["lower"]) == [lower for _, lower, _ in classes]
    assert list(sizes["upper"][:3]) == [upper for _, _, upper in classes[:3]]
    assert sizes["upper"].isna().tolist() == [False, False, False, True]
    assert dict(zip(sizes["label"], sizes["downloads"])) == expected
    running = 0
    for row in sizes.itertuples():
        running += expected[row.label]
        assert row.share_pct == pytest.approx(100 * expected[row.label] / total)
        assert row.share_of_known_pct == pytest.approx(100 * expected[row.label] / known)
        assert row.cumulative_pct == pytest.approx(100 * running / known)
    assert sizes.attrs["total_downloads"] == total
    assert sizes.attrs["known_downloads"] == known
    assert sizes.attrs["unknown_downloads"] == total - known
    assert sizes.attrs["unknown_share_pct"] == pytest.approx(100 * (total - known) / total)
    assert sizes.attrs["boundaries"] == [200_000_000, 500_000_000, 1_000_000_000]


def test_size_distribution_boundary_forms_and_modality_filter(loaded):
    client, events = loaded
    nlp = downloads_by([e for e in events if MODALITY[e["model_id"]] == "nlp"],
                       lambda e: e["model_id"])

    sizes = client.size_distribution(boundaries=["500M", 5e9], modality="nlp")

    assert list(sizes["label"]) == ["<500M", "500M-5B", ">=5B"]
    assert sizes.attrs["boundaries"] == [500_000_000, 5_000_000_000]
    assert list(sizes["downloads"]) == [nlp["beta/tiny"], 0, nlp["acme/chat-7b"]]
    assert sizes.attrs["total_downloads"] == sum(nlp.values())
    assert sizes.attrs["unknown_downloads"] == 0
    # None (or an empty sequence) leaves the choice to the server: 200M, 500M, 1B.
    assert client.size_distribution(boundaries=None).attrs["boundaries"] == [
        200_000_000, 500_000_000, 1_000_000_000]


def test_size_distribution_rejects_a_boundary_the_server_refuses(client):
    with pytest.raises(hubstats.InvalidArgumentError) as caught:
        client.size_distribution(boundaries=[0, 300e6])
    error = caught.value
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.field_violations[0][0] == "boundaries[0]"
    assert "0 is not a parameter count from 1 to 10^15" in error.field_violations[0][1]
    assert str(error).startswith("boundaries[0]: 0 is not a parameter count")

    with pytest.raises(hubstats.InvalidArgumentError) as caught:
        client.size_distribution(boundaries=[500e6, "200M"])
    assert [field for field, _ in caught.value.field_violations] == ["boundaries[1]"]


@pytest.mark.parametrize("boundary", [2.5e8 + 0.5, "1.5", "lots", None, True])
def test_size_distribution_rejects_non_integral_boundary_locally(boundary):
    # The client refuses before connecting: nothing listens on this target.
    with hubstats.Client("127.0.0.1:9", timeout=1) as client:
        with pytest.raises(ValueError, match=r"boundaries\[0\]"):
            client.size_distribution(boundaries=[boundary])


def test_size_distribution_wants_a_sequence_of_boundaries(client):
    with pytest.raises(ValueError, match="expected a sequence"):
        client.size_distribution(boundaries="200M")


@pytest.mark.parametrize("by", ["model", "author"])
def test_top_n(loaded, by):
    client, events = loaded
    key = (lambda e: e["model_id"]) if by == "model" else (lambda e: author_of(e["model_id"]))
    counts = downloads_by(events, key)
    total = sum(counts.values())
    expected = ranked(counts)[:3]

    top = client.top_n(3, by=by)

    assert_dtypes(top, {"rank": "int64", "id": "object", "downloads": "int64",
                        "share_pct": "float64", "cumulative_pct": "float64"})
    assert list(top["rank"]) == [1, 2, 3]
    assert list(zip(top["id"], top["downloads"])) == expected
    running = 0
    for row, (_, downloads) in zip(top.itertuples(), expected):
        running += downloads
        assert row.share_pct == pytest.approx(100 * downloads / total)
        assert row.cumulative_pct == pytest.approx(100 * running / total)
    assert top.attrs["total_downloads"] == total
    assert top.attrs["top_downloads"] == running
    assert top.attrs["top_share_pct"] == pytest.approx(100 * running / total)


def test_top_n_with_fewer_entries_and_modality_filter(loaded):
    client, events = loaded
    nlp = downloads_by([e for e in events if MODALITY[e["model_id"]] == "nlp"],
                       lambda e: e["model_id"])

    top = client.top_n(50, modality="nlp")

    assert list(zip(top["id"], top["downloads"])) == ranked(nlp)
    assert top.attrs["total_downloads"] == sum(nlp.values())
    assert top["cumulative_pct"].iloc[-1] == pytest.approx(100.0)


def test_top_n_filters_by_author_task_library_and_size(loaded):
    client, events = loaded

    def params(model_id):
        value = (CATALOG[model_id] or {}).get("num_parameters")
        return hubstats._convert.parameter_count(value, "p") if value is not None else 0

    cases = [
        (dict(author="acme"), lambda m: m.split("/")[0] == "acme"),
        (dict(library="transformers"),
         lambda m: (CATALOG[m] or {}).get("library_name") == "transformers"),
        (dict(task="text-generation"),
         lambda m: (CATALOG[m] or {}).get("pipeline_tag") == "text-generation"),
        (dict(min_parameters="200M", max_parameters="1B"),
         lambda m: 200_000_000 <= params(m) < 1_000_000_000),
        (dict(min_parameters="7B"), lambda m: params(m) >= 7_000_000_000),
    ]
    for filters, admits in cases:
        want = downloads_by([e for e in events if admits(e["model_id"])], lambda e: e["model_id"])
        top = client.top_n(50, **filters)
        assert list(zip(top["id"], top["downloads"])) == ranked(want), filters
        assert top.attrs["total_downloads"] == sum(want.values()), filters
    assert client.top_n(5, min_parameters="7B").attrs["min_parameters"] == 7_000_000_000
    with pytest.raises(hubstats.InvalidArgumentError) as caught:
        client.top_n(5, min_parameters="1B", max_parameters="1B")
    assert caught.value.field_violations[0][0] == "max_parameters"


def test_top_n_argument_errors(client):
    with pytest.raises(ValueError, match="by"):
        client.top_n(5, by="organisation")
    with pytest.raises(ValueError, match="n"):
        client.top_n(0)
    with pytest.raises(hubstats.InvalidArgumentError) as caught:
        client.top_n(10_001)
    assert caught.value.field_violations[0][0] == "n"


@pytest.mark.parametrize("by, field", [
    ("task", "pipeline_tag"), ("architecture", "architecture"), ("library", "library_name")])
def test_breakdown(loaded, by, field):
    client, events = loaded

    def key(event):
        record = CATALOG[event["model_id"]]
        if record is None:
            return "unknown"
        return record.get(field) or "(none)"

    counts = downloads_by(events, key)
    total = sum(counts.values())

    breakdown = client.breakdown(by)

    assert_dtypes(breakdown, {"key": "object", "downloads": "int64", "share_pct": "float64"})
    assert list(zip(breakdown["key"], breakdown["downloads"])) == ranked(counts)
    for key_value, pct in zip(breakdown["key"], breakdown["share_pct"]):
        assert pct == pytest.approx(100 * counts[key_value] / total)
    assert breakdown.attrs["total_downloads"] == total


def test_breakdown_with_modality_filter_and_bad_dimension(loaded):
    client, events = loaded
    audio = downloads_by([e for e in events if MODALITY[e["model_id"]] == "audio"],
                         lambda e: CATALOG[e["model_id"]]["library_name"])
    breakdown = client.breakdown("library", modality="audio")
    assert dict(zip(breakdown["key"], breakdown["downloads"])) == dict(audio)
    assert breakdown.attrs["total_downloads"] == sum(audio.values())
    with pytest.raises(ValueError, match="by"):
        client.breakdown("size")


def test_totals(loaded):
    client, events = loaded
    totals = client.totals()
    assert totals == {
        "total_downloads": sum(e["count"] for e in events),
        "models_with_downloads": len({e["model_id"] for e in events}),
        "authors_with_downloads": len({author_of(e["model_id"]) for e in events}),
        "catalogued_models": len(records()),
        "first_day": min(e["timestamp"].date() for e in events),
        "last_day": max(e["timestamp"].date() for e in events),
    }


def test_totals_of_an_empty_server(client):
    assert client.totals() == {"total_downloads": 0, "models_with_downloads": 0,
                               "authors_with_downloads": 0, "catalogued_models": 0,
                               "first_day": None, "last_day": None}


def test_a_range_without_downloads_answers_empty_frames_with_the_data_span(loaded):
    client, events = loaded
    span = (min(e["timestamp"].date() for e in events), max(e["timestamp"].date() for e in events))
    later = span[1] + dt.timedelta(days=30)
    answers = [client.modality_share(later, later), client.size_distribution(start=later),
               client.top_n(10, start=later), client.breakdown("library", start=later),
               client.top_n(10, modality="tabular")]  # No tabular downloads at all.
    for frame in answers:
        assert frame.empty and list(frame.columns)
        assert frame.attrs["total_downloads"] == 0
        assert frame.attrs["data_span"] == span
    # An answer with downloads has rows and no data_span.
    assert "data_span" not in client.modality_share(span[0], span[0]).attrs


def test_answers_with_downloads_carry_their_first_and_last_day(loaded):
    """attrs first_day/last_day: the first and last day with downloads inside the range asked
    (here from before the data to its fourth day; then all of it), from the events sent."""
    client, events = loaded
    for start, end in [(DAYS[0] - dt.timedelta(days=10), DAYS[3]), (None, None)]:
        days = [e["timestamp"].date() for e in events
                if (start is None or start <= e["timestamp"].date())
                and (end is None or e["timestamp"].date() <= end)]
        answers = {"modality_share": client.modality_share(start, end),
                   "size_distribution": client.size_distribution(start=start, end=end),
                   "top_n": client.top_n(3, start=start, end=end),
                   "breakdown": client.breakdown("library", start, end),
                   "crosstab": client.crosstab("modality", "size", start, end)}
        for name, frame in answers.items():
            assert not frame.empty and "data_span" not in frame.attrs, name
            assert (frame.attrs["first_day"], frame.attrs["last_day"]) == (min(days), max(days))
            assert type(frame.attrs["first_day"]) is dt.date, name
            assert (frame.attrs["start"], frame.attrs["end"]) == (start, end), name
    # An answer without downloads has no days of its own, only where the data lies.
    later = client.top_n(3, start=DAYS[-1] + dt.timedelta(days=1))
    assert later.empty and "first_day" not in later.attrs and later.attrs["data_span"]


def test_an_empty_server_has_no_data_span(client):
    share = client.modality_share()
    assert share.empty and share.attrs["data_span"] is None


def test_model(loaded):
    client, events = loaded
    model_id = "acme/whisper-small"
    mine = [e for e in events if e["model_id"] == model_id]
    per_model = downloads_by(events, lambda e: e["model_id"])
    in_range_days = set(DAYS[1:3])
    in_range = [e for e in mine if e["timestamp"].date() in in_range_days]
    revisions = collections.Counter()
    for event in in_range:  # Events without a revision add up in a row of their own.
        revisions[event["revision"] or "(no revision)"] += event["count"]
    per_day = downloads_by(in_range, lambda e: e["timestamp"].date())
    range_ranking = [m for m, _ in ranked(downloads_by(events, lambda e: e["model_id"],
                                                       in_range_days))]

    stats = client.model(model_id, start=DAYS[1], end=DAYS[2])

    assert stats == {
        "model_id": model_id,
        "author": "acme",
        "catalogued": True,
        "record": {"model_id": model_id, "pipeline_tag": "automatic-speech-recognition",
                   "modality": None, "num_parameters": 244_000_000,
                   "architecture": "encoder-decoder", "library_name": "transformers"},
        "modality": "audio",
        "size_class": "200M-500M",
        "downloads_all_time": per_model[model_id],
        "downloads_in_range": sum(e["count"] for e in in_range),
        "rank_all_time": [m for m, _ in ranked(per_model)].index(model_id) + 1,
        "rank_in_range": range_ranking.index(model_id) + 1,
        "revisions": dict(ranked(revisions)),
        "days": sorted(per_day.items()),
        "months": [],
    }
    assert list(stats["revisions"].values()) == sorted(revisions.values(), reverse=True)
    assert sum(stats["revisions"].values()) == stats["downloads_in_range"]
    assert "(no revision)" in stats["revisions"]


def test_model_without_record_and_unknown_model(loaded):
    client, events = loaded
    stats = client.model("legacy-model")
    assert stats["author"] == "(canonical)"
    assert (stats["catalogued"], stats["record"]) == (False, None)
    assert (stats["modality"], stats["size_class"]) == ("unknown", "unknown")
    assert stats["downloads_all_time"] == sum(e["count"] for e in events
                                              if e["model_id"] == "legacy-model")

    with pytest.raises(hubstats.NotFoundError, match="nobody/nothing"):
        client.model("nobody/nothing")


def test_catalogued_model_without_downloads_has_no_rank(client):
    client.upsert_models([{"model_id": "quiet/model", "modality": "tabular"}])
    stats = client.model("quiet/model")
    assert stats["record"]["modality"] == "tabular"
    assert (stats["downloads_all_time"], stats["rank_all_time"], stats["days"]) == (0, None, [])


# ---------------------------------------------------------------------------------------------
# Date ranges and arguments
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("start, end", [
    (DAYS[1], DAYS[3]),
    ("2024-03-02", "2024-03-02"),
    (DAYS[2], None),
    (None, "2024-03-03"),
    (dt.date(2024, 2, 1), dt.date(2024, 2, 28)),
])
def test_date_range_picks_the_right_days(loaded, start, end):
    client, events = loaded
    first = dt.date.fromisoformat(start) if isinstance(start, str) else start
    last = dt.date.fromisoformat(end) if isinstance(end, str) else end
    days = {day for day in DAYS
            if (first is None or day >= first) and (last is None or day <= last)}
    in_range = [e for e in events if e["timestamp"].date() in days]
    by_model = downloads_by(in_range, lambda e: e["model_id"])

    totals = client.totals(start, end)
    top = client.top_n(100, start=start, end=end)
    share = client.modality_share(start=start, end=end)

    assert totals["total_downloads"] == sum(by_model.values())
    assert totals["first_day"] == (min(days) if days else None)
    assert totals["last_day"] == (max(days) if days else None)
    assert list(zip(top["id"], top["downloads"])) == ranked(by_model)
    assert share["downloads"].sum() == sum(by_model.values())
    assert share.attrs["start"] == first and share.attrs["end"] == last


def test_reversed_range_names_range_end(client):
    with pytest.raises(hubstats.InvalidArgumentError) as caught:
        client.totals(start="2024-03-05", end="2024-03-01")
    assert [field for field, _ in caught.value.field_violations] == ["range.end"]
    assert str(caught.value).startswith("range.end: 2024-03-01 is before the start 2024-03-05")


@pytest.mark.parametrize("bad", ["2024/03/01", "2024-13-01", "01-03-2024", 20240301, 1.5])
def test_bad_dates_raise_value_error(client, bad):
    with pytest.raises(ValueError, match="start"):
        client.totals(start=bad)


def test_modality_names_and_aliases(loaded):
    client, events = loaded
    cv = sum(e["count"] for e in events if MODALITY[e["model_id"]] == "computer_vision")
    for name in ("computer_vision", "cv", "Computer-Vision", "MODALITY_COMPUTER_VISION"):
        assert client.top_n(10, modality=name).attrs["total_downloads"] == cv
    with pytest.raises(ValueError, match="'vision' is not a modality"):
        client.top_n(10, modality="vision")


# ---------------------------------------------------------------------------------------------
# Ingestion
# ---------------------------------------------------------------------------------------------

def test_ingest_generator_with_bad_events_across_batches(client):
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    bad_kinds = [
        ({"model_id": "bad id", "count": 5}, "model_id"),
        ({"model_id": "ok/model", "count": 0}, "count"),
        ({"model_id": "ok/model", "count": 2_000_000_000}, "count"),
        ({"model_id": "ok/model", "timestamp": "not a time"}, "timestamp"),
        ({"model_id": "ok/model", "timestamp": dt.datetime(2014, 12, 31, 23, 59,
                                                           tzinfo=dt.timezone.utc)}, "timestamp"),
        ({"model_id": "ok/model", "timestamp": future}, "timestamp"),
        ({"model_id": "ok/model", "revision": "has space"}, "revision"),
        ({"model_id": "ok/model", "cuont": 3}, "cuont"),
        ({"model_id": "", "count": 1}, "model_id"),
        ({"model_id": "ok/model", "count": 2.5}, "count"),
        ({"model_id": "ok/\ud800"}, "model_id"),
        ("not a dict", ""),
    ]
    rng = random.Random(5)
    plan = []  # (event, field of the expected rejection or None)
    for i in range(400):
        if i % 37 in (11, 12, 13):  # Runs of bad events, client- and server-side mixed.
            plan.append(bad_kinds[len(plan) % len(bad_kinds)])
        else:
            plan.append(({"model_id": f"org{i % 4}/m{i % 9}", "timestamp": rng.choice(DAYS),
                          "count": rng.randint(1, 50)}, None))
    consumed = []

    def generate():
        for event, _ in plan:
            consumed.append(event)
            yield event

    seen_progress = []
    summary = client.ingest(generate(), batch_size=23, progress=seen_progress.append)

    valid = [event for event, field in plan if field is None]
    expected_errors = [(index, field) for index, (_, field) in enumerate(plan)
                       if field is not None]
    assert len(consumed) == len(plan)
    assert summary["accepted"] == len(valid)
    assert summary["rejected"] == len(expected_errors)
    assert summary["accepted_downloads"] == sum(e["count"] for e in valid)
    assert [(e["index"], e["field"]) for e in summary["errors"]] == expected_errors
    assert all(e["reason"] for e in summary["errors"])
    # Valid events are counted exactly once, bad ones not at all.
    assert client.totals()["total_downloads"] == sum(e["count"] for e in valid)
    assert [p["processed"] for p in seen_progress] == [
        min(n, len(plan)) for n in range(23, len(plan) + 23, 23)]
    assert seen_progress[-1] == {"processed": len(plan), "accepted": len(valid),
                                 "rejected": len(expected_errors),
                                 "accepted_downloads": sum(e["count"] for e in valid)}


def test_ingest_reads_a_generator_with_bounded_read_ahead(client):
    batch_size, batches = 200, 40
    drawn = 0
    leads = []

    def generate():
        nonlocal drawn
        for i in range(batch_size * batches):
            drawn += 1
            yield {"model_id": f"stream/m{i % 100}", "timestamp": DAYS[0]}

    summary = client.ingest(generate(), batch_size=batch_size,
                            progress=lambda p: leads.append(drawn - p["processed"]))

    assert summary["accepted"] == batch_size * batches
    assert len(leads) == batches
    assert max(leads) <= MAX_BATCHES_IN_FLIGHT * batch_size


def test_ingest_timestamp_forms(client):
    utc = dt.timezone.utc
    forms = [
        (dt.datetime(2024, 3, 1, 23, 30, tzinfo=utc), dt.date(2024, 3, 1)),
        (dt.datetime(2024, 3, 2, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
         dt.date(2024, 3, 1)),                                     # 2024-03-01T23:00Z
        (dt.datetime(2024, 3, 2, 12, 0), dt.date(2024, 3, 2)),    # naive: UTC
        (dt.date(2024, 3, 3), dt.date(2024, 3, 3)),
        ("2024-03-04T23:59:59Z", dt.date(2024, 3, 4)),
        ("2024-03-05T00:30:00-01:00", dt.date(2024, 3, 5)),
        (int(dt.datetime(2024, 3, 6, 6, tzinfo=utc).timestamp()), dt.date(2024, 3, 6)),
        (dt.datetime(2024, 3, 7, tzinfo=utc).timestamp() - 0.25, dt.date(2024, 3, 6)),
        (pd.Timestamp("2024-03-07T10:00:00Z"), dt.date(2024, 3, 7)),
    ]
    events = [{"model_id": "time/model", "timestamp": ts, "count": 10 ** i}
              for i, (ts, _) in enumerate(forms)]
    expected = collections.Counter()
    for (_, day), event in zip(forms, events):
        expected[day] += event["count"]

    summary = client.ingest(events)

    assert summary["rejected"] == 0, summary["errors"]
    assert client.model("time/model")["days"] == sorted(expected.items())


def test_ingest_without_timestamp_uses_the_servers_day(client):
    before = dt.datetime.now(dt.timezone.utc).date()
    client.ingest([{"model_id": "now/model"}])
    after = dt.datetime.now(dt.timezone.utc).date()
    days = client.model("now/model")["days"]
    assert len(days) == 1 and before <= days[0][0] <= after and days[0][1] == 1


def test_ingest_dataframe(client):
    frame = pd.DataFrame({
        "model_id": ["df/a", "df/b", "df/a", "bad id"],
        "timestamp": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-02", "2024-03-02"]),
        "count": [3, None, 4, 1],   # NaN: the default count of 1
        "revision": ["main", None, "main", None],
    })
    summary = client.ingest(frame, batch_size=2)
    assert (summary["accepted"], summary["rejected"], summary["accepted_downloads"]) == (3, 1, 8)
    assert [(e["index"], e["field"]) for e in summary["errors"]] == [(3, "model_id")]
    assert client.model("df/a")["days"] == [(dt.date(2024, 3, 1), 3), (dt.date(2024, 3, 2), 4)]
    assert client.model("df/a")["revisions"] == {"main": 7}

    with pytest.raises(ValueError, match="unknown columns downloads"):
        client.ingest(frame.rename(columns={"count": "downloads"}))


def test_ingest_empty_input(client):
    summary = client.ingest(iter(()), producer_id="empty-input")
    assert summary == {"accepted": 0, "duplicates": 0, "rejected": 0, "accepted_downloads": 0,
                       "duplicate_downloads": 0, "accepted_all_time_only": 0, "errors": [],
                       "producer_id": "empty-input",
                       "reconnects": 0, "version": ""}


def test_ingest_input_error_propagates_after_complete_batches(client):
    def generate():
        for i in range(25):
            yield {"model_id": "fail/model", "timestamp": DAYS[0], "count": 1}
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        client.ingest(generate(), batch_size=10)
    # The two complete batches were sent and counted; the partial third was not sent.
    assert client.totals()["total_downloads"] == 20


@pytest.mark.parametrize("batch_size", [0, 100_001, 2.0, True])
def test_ingest_rejects_bad_batch_size(client, batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        client.ingest([], batch_size=batch_size)


# ---------------------------------------------------------------------------------------------
# Catalog upserts
# ---------------------------------------------------------------------------------------------

def test_late_events_count_into_all_time_only_when_the_server_says_so(make_server):
    """A server started with --late-events all-time: an event older than --max-lateness-days
    is accepted, said so in the summary, and counted into all time only."""
    server = make_server(extra_args=["--max-lateness-days", "7", "--late-events", "all-time"])
    today = dt.datetime.now(dt.timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    events = [{"model_id": "org/late", "timestamp": today, "count": 1},
              {"model_id": "org/late", "timestamp": today - dt.timedelta(days=30), "count": 10,
               "revision": "main"},
              {"model_id": "org/late", "timestamp": today - dt.timedelta(days=400), "count": 100}]
    with hubstats.Client(server.target) as client:
        summary = client.ingest(events)
        assert (summary["accepted"], summary["rejected"]) == (3, 0)
        assert summary["accepted_all_time_only"] == 2
        assert summary["accepted_downloads"] == 111
        assert client.totals(fresh=True)["total_downloads"] == 111
        week = client.totals(today.date() - dt.timedelta(days=6), today.date(), fresh=True)
        assert week["total_downloads"] == 1
        stats = client.model("org/late", fresh=True)
        assert stats["days"] == [(today.date(), 1)]
        assert stats["revisions"] == {"(late, no day)": 110, "(no revision)": 1}
    # The default refuses them, each with its reason, and says nothing is all-time only.
    refusing = make_server(extra_args=["--max-lateness-days", "7"])
    with hubstats.Client(refusing.target) as client:
        summary = client.ingest(events)
        assert (summary["accepted"], summary["rejected"]) == (1, 2)
        assert summary["accepted_all_time_only"] == 0
        assert {error["field"] for error in summary["errors"]} == {"timestamp"}


def test_months_past_retention_come_as_monthly_totals(make_server):
    """A replica started with --retention-days 31 folds the 2024 days another replica wrote
    into monthly totals in Redis: whole months stay exact on both, model() lists the months,
    and a range that splits one is refused, naming range.start."""
    keeper = make_server()
    events = [{"model_id": "org/kept", "timestamp": dt.datetime(2024, 1, 10, 12), "count": 5,
               "revision": "main"},
              {"model_id": "org/kept", "timestamp": dt.datetime(2024, 1, 20, 12), "count": 3},
              {"model_id": "org/kept", "timestamp": dt.datetime(2024, 2, 5, 12), "count": 7,
               "revision": "main"}]
    with hubstats.Client(keeper.target) as client:
        assert client.ingest(events)["accepted"] == 3
        assert client.model("org/kept", "2024-01-15", "2024-02-29",
                            fresh=True)["downloads_in_range"] == 10
    folder = make_server(prefix=keeper.prefix, extra_args=["--retention-days", "31"])
    for target in (folder.target, keeper.target):
        with hubstats.Client(target) as client:
            deadline = time.monotonic() + 20
            while True:  # The replica folds at start, month by month; both follow the folds.
                stats = client.model("org/kept", "2024-01-01", "2024-02-29", fresh=True)
                assert stats["downloads_in_range"] == 15  # Exact before, during and after.
                if (stats["months"] and not stats["days"]) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert stats["months"] == [(dt.date(2024, 1, 1), 8), (dt.date(2024, 2, 1), 7)]
            assert (stats["days"], stats["downloads_in_range"]) == ([], 15)
            assert stats["revisions"] == {"main": 12, "(no revision)": 3}
            with pytest.raises(hubstats.InvalidArgumentError) as caught:
                client.model("org/kept", "2024-01-15", "2024-02-29")
            assert caught.value.field_violations[0][0] == "range.start"
            assert "2024-01-01 or 2024-02-01" in caught.value.field_violations[0][1]


def test_upsert_reclassifies_history(client):
    events = [{"model_id": "move/model", "timestamp": day, "count": 10 * (i + 1)}
              for i, day in enumerate(DAYS)]
    events += [{"model_id": "stay/model", "timestamp": DAYS[0], "count": 7}]
    client.ingest(events)
    moving = sum(e["count"] for e in events if e["model_id"] == "move/model")
    second_day = sum(e["count"] for e in events if e["timestamp"] == DAYS[1])

    def share(**range_):
        frame = client.modality_share(**range_)
        return {m: d for m, d in zip(frame["modality"], frame["downloads"]) if d}

    assert share() == {"unknown": moving + 7}

    first = client.upsert_models([{"model_id": "move/model", "modality": "audio",
                                   "num_parameters": 50e6}])
    assert (first["accepted"], first["rejected"], first["errors"]) == (1, 0, [])
    assert first["reclassified"] == 1
    assert share() == {"audio": moving, "unknown": 7}
    assert share(start=DAYS[1], end=DAYS[1]) == {"audio": second_day}

    # The same record again changes nothing.
    again = client.upsert_models([{"model_id": "move/model", "modality": "audio",
                                   "num_parameters": 50e6}])
    assert (again["accepted"], again["reclassified"]) == (1, 0)

    # A new classification moves every day's downloads, size classes included.
    moved = client.upsert_models(pd.DataFrame([{"model_id": "move/model",
                                                "pipeline_tag": "image-classification",
                                                "num_parameters": "2B"}]))
    assert moved["reclassified"] == 1
    assert share() == {"computer_vision": moving, "unknown": 7}
    assert share(start=DAYS[1], end=DAYS[1]) == {"computer_vision": second_day}
    sizes = client.size_distribution(start=DAYS[1], end=DAYS[1])
    assert dict(zip(sizes["label"], sizes["downloads"]))[">=1B"] == second_day


def test_upsert_reports_rejections_by_input_index(client):
    rows = [
        {"model_id": "cat/ok1", "modality": "nlp"},
        {"model_id": "cat/bad-tag", "pipeline_tag": "Not A Tag"},          # server
        {"model_id": "cat/ok2", "architecture": "encoder_decoder"},
        {"model_id": "cat/unknown", "modality": "unknown"},                # server refuses
        {"model_id": "cat/bad-mod", "modality": "smell"},                  # client
        {"model_id": "cat/bad-arch", "architecture": "transformer"},       # client
        {"model_id": "cat/too-big", "num_parameters": 10 ** 16},           # server
        {"model_id": "cat/ok3", "num_parameters": "1.5B", "library_name": "diffusers"},
        {"model_id": "cat/typo", "libary_name": "x"},                      # client
    ]
    summary = client.upsert_models(iter(rows), batch_size=2)

    assert (summary["accepted"], summary["rejected"]) == (3, 6)
    assert [(e["index"], e["field"]) for e in summary["errors"]] == [
        (1, "pipeline_tag"), (3, "modality"), (4, "modality"), (5, "architecture"),
        (6, "num_parameters"), (8, "libary_name")]
    assert client.totals()["catalogued_models"] == 3
    assert client.model("cat/ok3")["record"]["num_parameters"] == 1_500_000_000
    assert client.model("cat/ok2")["record"]["architecture"] == "encoder-decoder"


# ---------------------------------------------------------------------------------------------
# Errors and the client object
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def own_redis_server(local):
    """A server on a Redis of its own (which the test may stop): yields (redis, server)."""
    redis = local.start_redis()
    yield redis, local.start_server(redis.url)


def test_unavailable_when_redis_is_down(own_redis_server):
    redis, server = own_redis_server
    batch_size = 50
    with hubstats.Client(server.target) as client:
        client.ingest([{"model_id": "up/model", "timestamp": DAYS[0]}])

        def generate():
            for i in range(batch_size * 10):
                if i == batch_size * 3:
                    redis.kill()
                yield {"model_id": "down/model", "timestamp": DAYS[0]}

        # retry_for=0: give up at the first failure instead of retrying for five minutes.
        with pytest.raises(hubstats.UnavailableError) as caught:
            client.ingest(generate(), batch_size=batch_size, retry_for=0)
        partial = caught.value.partial_summary
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE
        assert partial["accepted"] % batch_size == 0
        assert partial["accepted"] <= batch_size * 3

        # Queries answer from the server's read model, which holds every acknowledged write;
        # asking for everything committed anywhere (fresh) needs Redis.
        assert client.totals()["total_downloads"] == 1 + partial["accepted_downloads"]
        with pytest.raises(hubstats.UnavailableError):
            client.totals(fresh=True)


def test_other_status_codes_map_to_the_base_error(server):
    with hubstats.Client(server.target, timeout=1e-6) as client:
        with pytest.raises(hubstats.HubstatsError) as caught:
            client.totals()
    assert type(caught.value) is hubstats.HubstatsError
    assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert str(caught.value).startswith("DEADLINE_EXCEEDED: ")


def test_client_is_a_context_manager(server):
    with hubstats.Client(server.target) as client:
        assert client.totals()["total_downloads"] == 0
    with pytest.raises(ValueError):  # grpc refuses calls on a closed channel.
        client.totals()

