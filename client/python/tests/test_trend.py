"""Client.trend against a real server: every period equals the range queries over its days
(modality_share, size_distribution, breakdown, top_n) on the synthetic hub with a 12-month
history, for months, ISO weeks and days; the DataFrame's shape and attrs; errors.

Periods are cut here from the calendar (ISO weeks from Monday, months from the 1st), not taken
from the answer."""

from __future__ import annotations

import datetime as dt
import os

import grpc
import pytest

import hubstats
from hubstats import synth

HUB = dict(seed=3, models=3000, events=20000, trend_months=12)
FIRST, LAST = dt.date(2023, 10, 1), dt.date(2024, 9, 20)  # The hub's first and last day.
MODALITIES = list(hubstats.MODALITY_NAMES)
COLUMNS = {"period_start": "object", "first_day": "object", "last_day": "object",
           "key": "object", "downloads": "int64", "share_pct": "float64"}


@pytest.fixture(scope="module")
def hub_client(redis, session_stack):
    """A client of a Redis-backed server holding the synthetic hub with its history."""
    server = session_stack.start_server(redis.url, f"pytest{os.getpid()}trend")
    hub = synth.SyntheticHub(**HUB)
    with hubstats.Client(server.target, timeout=60) as client:
        synth.load(client, hub, batch_size=5000, show_progress=False)
        yield client


def periods(first: dt.date, last: dt.date, granularity: str) -> list[tuple]:
    """(calendar start, first day, last day) of every period touching first..last."""
    result = []
    start = (first if granularity == "day" else
             first - dt.timedelta(days=first.weekday()) if granularity == "week" else
             first.replace(day=1))
    while start <= last:
        following = (start + dt.timedelta(days=1) if granularity == "day" else
                     start + dt.timedelta(days=7) if granularity == "week" else
                     (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1))
        result.append((start, max(start, first), min(following - dt.timedelta(days=1), last)))
        start = following
    return result


def range_query(client, dimension: str, first: dt.date, last: dt.date, *, boundaries=None,
                n: int = 50, modality=None) -> dict[str, int]:
    """Downloads per trend key of first..last, from the range queries."""
    if dimension == "modality":
        frame = client.modality_share(first, last)
        return dict(zip(frame["modality"], frame["downloads"]))
    if dimension == "size":
        frame = client.size_distribution(boundaries, first, last, modality)
        return {**dict(zip(frame["label"], frame["downloads"])),
                "unknown": frame.attrs["unknown_downloads"]}
    if dimension in ("task", "architecture", "library"):
        frame = client.breakdown(dimension, first, last, modality)
        return dict(zip(frame["key"], frame["downloads"]))
    frame = client.top_n(n, "model" if dimension == "top-models" else "author", first, last,
                         modality)
    return {f"top {n}": frame.attrs["top_downloads"],
            "rest": frame.attrs["total_downloads"] - frame.attrs["top_downloads"]}


def assert_equals_range_queries(client, first, last, granularity, dimension, **options):
    trend = client.trend(first, last, granularity=granularity, dimension=dimension, **options)
    keys = trend.attrs["keys"]
    cut = periods(first, last, granularity)
    assert len(trend) == len(cut) * len(keys)
    assert list(trend.columns) == list(COLUMNS)
    for index, (start, first_day, last_day) in enumerate(cut):
        rows = trend.iloc[index * len(keys):(index + 1) * len(keys)]
        assert set(rows["period_start"]) == {start}, (granularity, start)
        assert set(rows["first_day"]) == {first_day} and set(rows["last_day"]) == {last_day}
        assert list(rows["key"]) == keys  # Every key, in the answer's order, zeros included.
        expected = range_query(client, dimension, first_day, last_day, **options)
        assert set(expected) <= set(keys), (start, set(expected) - set(keys))
        downloads = dict(zip(rows["key"], rows["downloads"]))
        assert downloads == {key: expected.get(key, 0) for key in keys}, (granularity, start)
        total = sum(downloads.values())
        for key, share in zip(rows["key"], rows["share_pct"]):
            assert share == pytest.approx(100 * downloads[key] / total if total else 0.0,
                                          rel=1e-12, abs=1e-12), (start, key)
    return trend


DIMENSIONS = ["modality", "size", "task", "architecture", "library", "top-models",
              "top-authors"]


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_months_equal_the_range_queries(hub_client, dimension):
    """12 calendar months, the last partial (1-20 Sep 2024), February of a leap year."""
    trend = assert_equals_range_queries(hub_client, FIRST, LAST, "month", dimension)
    assert trend["period_start"].nunique() == 12


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_iso_weeks_equal_the_range_queries(hub_client, dimension):
    """ISO weeks from Sunday 1 Oct 2023 (the week of Monday 25 Sep, cut to its last day)
    across the new year to Friday 20 Sep 2024."""
    trend = assert_equals_range_queries(hub_client, FIRST, LAST, "week", dimension)
    starts = sorted(set(trend["period_start"]))
    assert starts[0] == dt.date(2023, 9, 25) and starts[-1] == dt.date(2024, 9, 16)
    assert all(day.weekday() == 0 for day in starts)
    assert dt.date(2024, 1, 1) in starts  # 2024-W01 starts on New Year's Day.


@pytest.mark.parametrize("first,last", [
    (dt.date(2024, 2, 26), dt.date(2024, 3, 3)),   # the leap day
    (dt.date(2024, 8, 15), dt.date(2024, 9, 20)),  # the history runs into the window
])
@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_days_equal_the_range_queries(hub_client, dimension, first, last):
    assert_equals_range_queries(hub_client, first, last, "day", dimension)


def test_options_equal_the_range_queries(hub_client):
    """Other size boundaries, another n, and a modality filter."""
    trend = assert_equals_range_queries(hub_client, FIRST, LAST, "month", "size",
                                        boundaries=["100M", "1B", "10B"])
    assert trend.attrs["keys"] == ["<100M", "100M-1B", "1B-10B", ">=10B", "unknown"]
    assert trend.attrs["boundaries"] == [10**8, 10**9, 10**10]
    trend = assert_equals_range_queries(hub_client, FIRST, LAST, "week", "top-authors", n=5)
    assert trend.attrs["keys"] == ["top 5", "rest"] and trend.attrs["n"] == 5
    assert_equals_range_queries(hub_client, FIRST, LAST, "month", "task", modality="audio")
    assert_equals_range_queries(hub_client, FIRST, LAST, "month", "top-models", n=3,
                                modality="cv")


def test_the_frame_and_its_attrs(hub_client):
    trend = hub_client.trend(granularity="month")  # All days with data, by modality.
    assert {column: str(dtype) for column, dtype in trend.dtypes.items()} == COLUMNS
    for column in ("period_start", "first_day", "last_day"):
        assert all(type(day) is dt.date for day in trend[column])
    assert all(isinstance(key, str) for key in trend["key"])
    attrs = trend.attrs
    assert (attrs["granularity"], attrs["dimension"]) == ("month", "modality")
    # The keys: all nine modalities, by downloads over the range (ties in enum order).
    whole = hub_client.modality_share()
    assert attrs["keys"] == list(whole["modality"]) and sorted(attrs["keys"]) == sorted(
        MODALITIES)
    assert attrs["total_downloads"] == whole.attrs["total_downloads"] == int(
        trend["downloads"].sum())
    assert (attrs["boundaries"], attrs["n"], attrs["modality"]) == ([], None, None)
    assert (attrs["start"], attrs["end"]) == (None, None)
    assert isinstance(attrs["as_of"]["version"], str) and attrs["as_of"]["version"]
    assert attrs["as_of"]["time"] is None or attrs["as_of"]["time"].tzinfo is not None
    assert (trend["first_day"].iloc[0], trend["last_day"].iloc[-1]) == (FIRST, LAST)
    assert "data_span" not in attrs
    # Shares add up to 100 in every period.
    for _, shares in trend.groupby("period_start")["share_pct"]:
        assert shares.sum() == pytest.approx(100)
    # Dates as strings or datetimes, like every query.
    same = hub_client.trend("2024-01-01", dt.datetime(2024, 3, 31, 23, 0), granularity="week",
                            dimension="architecture")
    assert same.attrs["start"] == dt.date(2024, 1, 1) and same.attrs["end"] == dt.date(2024, 3, 31)
    assert same["period_start"].iloc[0] == dt.date(2024, 1, 1)


def test_a_range_without_downloads_is_empty_and_says_where_the_data_are(hub_client):
    trend = hub_client.trend("2030-01-01", "2030-03-31", fresh=True)
    assert trend.empty and list(trend.columns) == list(COLUMNS)
    assert trend.attrs["data_span"] == (FIRST, LAST)
    assert trend.attrs["total_downloads"] == 0


def test_bad_names_are_refused_before_any_call():
    client = hubstats.Client("127.0.0.1:1")  # Nothing listens: a call would fail otherwise.
    with pytest.raises(ValueError, match="granularity: expected one of day, week, month, got "
                                         "'quarter'"):
        client.trend(granularity="quarter")
    with pytest.raises(ValueError, match="dimension: expected one of modality, size, task, "
                                         "architecture, library, top-models, top-authors, got "
                                         "'organisation'"):
        client.trend(dimension="organisation")
    with pytest.raises(ValueError, match="boundaries: only for dimension 'size'"):
        client.trend(dimension="task", boundaries=["200M"])
    with pytest.raises(ValueError, match="n: expected a positive int"):
        client.trend(dimension="top-models", n=0)
    with pytest.raises(ValueError, match="is not a modality"):
        client.trend(modality="speech")
    with pytest.raises(ValueError, match="not a date of the form YYYY-MM-DD"):
        client.trend("Sep 2024")
    client.close()


def test_the_servers_refusals_name_the_field(hub_client):
    with pytest.raises(hubstats.InvalidArgumentError) as refused:
        hub_client.trend("2020-01-01", "2024-12-31", granularity="day")  # > 1,000 periods
    assert [field for field, _ in refused.value.field_violations] == ["range"]
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(hubstats.InvalidArgumentError) as refused:
        hub_client.trend(dimension="size", boundaries=["1B", "300M"])
    assert [field for field, _ in refused.value.field_violations] == ["boundaries[1]"]
    with pytest.raises(hubstats.InvalidArgumentError) as refused:
        hub_client.trend("2024-03-05", "2024-03-01")
    assert [field for field, _ in refused.value.field_violations] == ["range.end"]
    with pytest.raises(hubstats.InvalidArgumentError) as refused:
        hub_client.trend(dimension="top-authors", n=10_001)
    assert [field for field, _ in refused.value.field_violations] == ["n"]
