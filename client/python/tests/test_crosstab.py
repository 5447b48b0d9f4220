"""Client.crosstab against a real server (fixtures in conftest and test_client).

Expected cells are a pandas groupby of the events each test ingested joined with the catalog it
upserted; the row and column totals are checked against the one-dimension queries."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import hubstats
from test_client import (CATALOG, DAYS, MODALITY, PARAMETERS, assert_dtypes, client,  # noqa: F401
                         loaded)

COLUMNS = {"row": "object", "column": "object", "downloads": "int64", "share_pct": "float64",
           "row_share_pct": "float64"}
DEFAULT_BOUNDARIES = [200_000_000, 500_000_000, 1_000_000_000]


def count_text(count: int) -> str:
    """200_000_000 -> "200M", as size class labels spell boundaries (whole units here)."""
    for unit, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if count >= unit and count % unit == 0:
            return f"{count // unit}{suffix}"
    return str(count)


def size_labels(boundaries: list[int]) -> list[str]:
    """The classes of `boundaries`, smallest first, then "unknown"."""
    inner = [f"{count_text(a)}-{count_text(b)}" for a, b in zip(boundaries, boundaries[1:])]
    return [f"<{count_text(boundaries[0])}", *inner, f">={count_text(boundaries[-1])}",
            "unknown"]


def size_label(model_id: str, boundaries: list[int]) -> str:
    if model_id not in PARAMETERS:
        return "unknown"
    below = sum(1 for b in boundaries if PARAMETERS[model_id] >= b)
    return size_labels(boundaries)[below]


def catalog_frame(boundaries: list[int]) -> pd.DataFrame:
    """Each model's key in every dimension, from CATALOG (not from the server)."""
    rows = []
    for model_id, record in CATALOG.items():
        def field(name):
            return "unknown" if record is None else (record.get(name) or "(none)")
        rows.append({"model_id": model_id, "modality": MODALITY[model_id],
                     "size": size_label(model_id, boundaries), "task": field("pipeline_tag"),
                     "architecture": field("architecture"), "library": field("library_name")})
    return pd.DataFrame(rows)


def joined(events, boundaries=DEFAULT_BOUNDARIES, days=None, modality=None) -> pd.DataFrame:
    frame = pd.DataFrame({"model_id": [e["model_id"] for e in events],
                          "day": [e["timestamp"].date() for e in events],
                          "count": [e["count"] for e in events]})
    if days is not None:
        frame = frame[frame["day"].isin(days)]
    frame = frame.merge(catalog_frame(boundaries), on="model_id", how="left", validate="m:1")
    assert not frame["modality"].isna().any()
    if modality is not None:
        frame = frame[frame["modality"] == modality]
    return frame


def key_order(frame: pd.DataFrame, dimension: str, boundaries, modality=None) -> list[str]:
    """The keys of a dimension as the proto orders them."""
    totals = frame.groupby(dimension)["count"].sum()
    if dimension == "size":
        return size_labels(boundaries)
    if dimension == "modality":
        names = [modality] if modality else list(hubstats.MODALITY_NAMES)
        return sorted(names, key=lambda name: (-int(totals.get(name, 0)), names.index(name)))
    return sorted(totals.index, key=lambda key: (-int(totals[key]), key.encode()))


def expected_cells(frame: pd.DataFrame, rows: str, columns: str, boundaries,
                   modality=None) -> tuple[pd.DataFrame, list, list]:
    row_keys = key_order(frame, rows, boundaries, modality)
    column_keys = key_order(frame, columns, boundaries, modality)
    sums = frame.groupby([rows, columns])["count"].sum()
    row_totals = frame.groupby(rows)["count"].sum()
    total = int(frame["count"].sum())
    cells = []
    for row in row_keys:
        for column in column_keys:
            downloads = int(sums.get((row, column), 0))
            row_total = int(row_totals.get(row, 0))
            cells.append({"row": row, "column": column, "downloads": downloads,
                          "share_pct": 100 * downloads / total if total else 0.0,
                          "row_share_pct": 100 * downloads / row_total if row_total else 0.0})
    return pd.DataFrame(cells, columns=list(COLUMNS)), row_keys, column_keys


def assert_cells(answer: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert_dtypes(answer, COLUMNS)
    assert list(answer["row"]) == list(expected["row"])
    assert list(answer["column"]) == list(expected["column"])
    assert list(answer["downloads"]) == list(expected["downloads"])
    assert list(answer["share_pct"]) == pytest.approx(list(expected["share_pct"]))
    assert list(answer["row_share_pct"]) == pytest.approx(list(expected["row_share_pct"]))


@pytest.mark.parametrize("rows, columns", [
    ("architecture", "size"), ("modality", "size"), ("size", "modality"),
    ("task", "library"), ("library", "architecture"), ("modality", "task")])
def test_cells_equal_a_groupby_of_the_events(loaded, rows, columns):
    client, events = loaded
    frame = joined(events)
    expected, row_keys, column_keys = expected_cells(frame, rows, columns, DEFAULT_BOUNDARIES)

    answer = client.crosstab(rows, columns)

    assert_cells(answer, expected)
    assert len(answer) == len(row_keys) * len(column_keys)
    assert answer.attrs["row_keys"] == row_keys
    assert answer.attrs["column_keys"] == column_keys
    assert answer.attrs["row_totals"] == {
        key: int(frame.loc[frame[rows] == key, "count"].sum()) for key in row_keys}
    assert answer.attrs["column_totals"] == {
        key: int(frame.loc[frame[columns] == key, "count"].sum()) for key in column_keys}
    assert answer.attrs["total_downloads"] == int(frame["count"].sum())
    assert (answer.attrs["rows"], answer.attrs["columns"]) == (rows, columns)
    assert answer.attrs["boundaries"] == (DEFAULT_BOUNDARIES if "size" in (rows, columns)
                                          else [])
    assert answer.attrs["as_of"]["version"]
    assert (answer.attrs["start"], answer.attrs["end"], answer.attrs["modality"]) == (
        None, None, None)
    assert "data_span" not in answer.attrs
    # Every row's cells add up to the row's total, and its row shares to 100%.
    for key, cells in answer.groupby("row", sort=False):
        assert cells["downloads"].sum() == answer.attrs["row_totals"][key]
        if answer.attrs["row_totals"][key]:
            assert cells["row_share_pct"].sum() == pytest.approx(100.0)


def test_totals_equal_the_one_dimension_answers(loaded):
    client, _ = loaded
    by_modality = client.crosstab("modality", "task")
    share = client.modality_share()
    assert by_modality.attrs["row_keys"] == list(share["modality"])
    assert by_modality.attrs["row_totals"] == dict(zip(share["modality"], share["downloads"]))
    tasks = client.breakdown("task")
    assert by_modality.attrs["column_keys"] == list(tasks["key"])
    assert by_modality.attrs["column_totals"] == dict(zip(tasks["key"], tasks["downloads"]))

    by_size = client.crosstab("size", "architecture", boundaries=["100M", "1B"])
    sizes = client.size_distribution(boundaries=["100M", "1B"])
    assert by_size.attrs["row_totals"] == {
        **dict(zip(sizes["label"], sizes["downloads"])),
        "unknown": sizes.attrs["unknown_downloads"]}
    architectures = client.breakdown("architecture")
    assert by_size.attrs["column_totals"] == dict(zip(architectures["key"],
                                                      architectures["downloads"]))
    assert by_size.attrs["total_downloads"] == sizes.attrs["total_downloads"]


def test_range_modality_filter_and_boundaries(loaded):
    client, events = loaded
    boundaries = [500_000_000, 5_000_000_000]
    days = set(DAYS[1:4])
    frame = joined(events, boundaries, days, modality="nlp")
    expected, row_keys, _ = expected_cells(frame, "size", "architecture", boundaries)

    answer = client.crosstab("size", "architecture", DAYS[1], DAYS[3].isoformat(),
                             boundaries=["500M", 5e9], modality="NLP")

    assert_cells(answer, expected)
    assert row_keys == ["<500M", "500M-5B", ">=5B", "unknown"]
    assert answer.attrs["boundaries"] == boundaries
    assert answer.attrs["total_downloads"] == int(frame["count"].sum())
    assert (answer.attrs["start"], answer.attrs["end"]) == (DAYS[1], DAYS[3])
    assert answer.attrs["modality"] == "NLP"
    # Shares are of the filtered modality's downloads.
    assert answer["share_pct"].sum() == pytest.approx(100.0)
    # The modality dimension under a modality filter holds that modality alone.
    only = client.crosstab("modality", "library", modality="audio")
    assert only.attrs["row_keys"] == ["audio"]
    assert set(only["row"]) == {"audio"}
    assert only.attrs["row_totals"]["audio"] == client.modality_share().set_index(
        "modality").loc["audio", "downloads"]


def test_a_range_without_downloads_gives_no_cells_and_the_data_span(loaded):
    client, events = loaded
    span = (min(e["timestamp"].date() for e in events), max(e["timestamp"].date() for e in events))
    later = span[1] + dt.timedelta(days=30)

    answer = client.crosstab("modality", "size", later, later)

    assert answer.empty and list(answer.columns) == list(COLUMNS)
    assert answer.attrs["total_downloads"] == 0
    assert answer.attrs["data_span"] == span
    # The keys stay as the server gives them: all nine modalities and every size class.
    assert sorted(answer.attrs["row_keys"]) == sorted(hubstats.MODALITY_NAMES)
    assert answer.attrs["column_keys"] == size_labels(DEFAULT_BOUNDARIES)
    assert set(answer.attrs["row_totals"].values()) == {0}


@pytest.mark.parametrize("call, pattern", [
    (lambda c: c.crosstab("modalities", "size"),
     r"rows: expected one of modality, size, task, architecture, library, got 'modalities'"),
    (lambda c: c.crosstab("size", "pipeline_tag"),
     r"columns: expected one of modality, size, task, architecture, library"),
    (lambda c: c.crosstab(None, "size"), r"rows: expected one of"),
    (lambda c: c.crosstab("task", "task"), r"columns: must be another dimension than rows"),
    (lambda c: c.crosstab("task", "library", boundaries=[1e9]),
     r"boundaries: only when rows or columns is 'size'"),
    (lambda c: c.crosstab("size", "task", boundaries="1B"), r"boundaries: expected a sequence"),
    (lambda c: c.crosstab("size", "task", boundaries=[1.5]), r"boundaries\[0\]"),
    (lambda c: c.crosstab("size", "task", modality="vision"), r"'vision' is not a modality"),
    (lambda c: c.crosstab("size", "task", start="2024/03/01"), r"start"),
])
def test_argument_errors_are_raised_before_any_call(call, pattern):
    # Nothing listens on this target: the client refuses before connecting.
    with hubstats.Client("127.0.0.1:9", timeout=1) as offline:
        with pytest.raises(ValueError, match=pattern):
            call(offline)


def test_a_boundary_the_server_refuses(client):
    with pytest.raises(hubstats.InvalidArgumentError) as caught:
        client.crosstab("size", "modality", boundaries=[0, "300M"])
    assert caught.value.field_violations[0][0] == "boundaries[0]"
    with pytest.raises(hubstats.InvalidArgumentError) as caught:
        client.crosstab("architecture", "size", start="2024-03-05", end="2024-03-01")
    assert [field for field, _ in caught.value.field_violations] == ["range.end"]
