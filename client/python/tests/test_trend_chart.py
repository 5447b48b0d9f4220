"""hubstats.trend_chart: period labels a reader understands, the fixed palette, the numbers the
chart draws, no overlapping text at any length of series, and the chart of a real server's
trend. Frames are built here the way Client.trend returns them; expected shares are computed
from their downloads."""

from __future__ import annotations

import datetime as dt
import itertools

import matplotlib.collections
import matplotlib.colors
import pandas as pd
import pytest

import hubstats
from hubstats import charts, trend_chart
from hubstats._local import LocalStack
from test_charts import (MODALITY_COLOR_VALUES, assert_good_png, assert_no_overlaps,  # noqa: F401
                         assert_pyplot_managed, close_figures, drawn_texts, texts_of)

MODALITIES = ["nlp", "computer_vision", "audio", "multimodal", "time_series", "tabular",
              "reinforcement_learning", "other", "unknown"]


def next_start(day: dt.date, granularity: str) -> dt.date:
    if granularity == "day":
        return day + dt.timedelta(days=1)
    if granularity == "week":
        return day + dt.timedelta(days=7)
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def trend_frame(first: dt.date, last: dt.date, granularity: str, keys: list[str],
                downloads, dimension: str = "modality") -> pd.DataFrame:
    """A Client.trend DataFrame over first..last: downloads(period index, key index) per
    cell, shares of each period's total, attrs as the client sets them."""
    start = (first if granularity == "day" else
             first - dt.timedelta(days=first.weekday()) if granularity == "week" else
             first.replace(day=1))
    rows, index = [], 0
    while start <= last:
        following = next_start(start, granularity)
        counts = [downloads(index, k) for k in range(len(keys))]
        total = sum(counts)
        for key, count in zip(keys, counts):
            rows.append({"period_start": start, "first_day": max(start, first),
                         "last_day": min(following - dt.timedelta(days=1), last), "key": key,
                         "downloads": count, "share_pct": 100 * count / total if total else 0.0})
        start, index = following, index + 1
    frame = pd.DataFrame(rows).astype({"downloads": "int64", "share_pct": "float64"})
    frame.attrs.update({"granularity": granularity, "dimension": dimension, "keys": keys,
                        "boundaries": [], "n": None, "modality": None,
                        "total_downloads": int(frame["downloads"].sum()), "start": first,
                        "end": last})
    return frame


def growing_audio(index: int, key: int) -> int:
    """Audio grows by 400 a period, NLP shrinks by 300; tabular has none."""
    base = [6000, 2100, 900, 200, 100, 0, 8, 30, 12][key]
    return base + (400 * index if key == 2 else -300 * index if key == 0 else 0)


def modality_year(granularity: str, first=dt.date(2023, 10, 4), last=dt.date(2024, 9, 20)):
    return trend_frame(first, last, granularity, MODALITIES, growing_audio)


def legend_texts(figure) -> list:
    legend = figure.axes[0].get_legend()
    return [text for text in legend.get_texts() if text.get_text()]


def assert_clear(figure) -> None:
    """No two texts overlap, legend entries included, all inside the figure; the legend
    stands beside the plot, not on it."""
    assert_no_overlaps(figure)
    renderer = figure.canvas.get_renderer()
    texts = drawn_texts(figure) + legend_texts(figure)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    for text, box in boxes:
        assert figure.bbox.x0 - 1 <= box.x0 and box.x1 <= figure.bbox.x1 + 1, text
        assert figure.bbox.y0 - 1 <= box.y0 and box.y1 <= figure.bbox.y1 + 1, text
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert width <= 0.5 or height <= 0.5, f"{a!r} overlaps {b!r}"
    legend = figure.axes[0].get_legend().get_window_extent(renderer)
    plot = figure.axes[0].get_window_extent(renderer)
    assert legend.x0 >= plot.x1, "the legend covers the plot"


def band_colors(figure) -> list[tuple]:
    """Face colours of the stacked bands, bottom first."""
    return [tuple(collection.get_facecolor()[0]) for collection in figure.axes[0].collections
            if isinstance(collection, matplotlib.collections.PolyCollection)]


def tick_labels(figure) -> list[str]:
    return [label.get_text() for label in figure.axes[0].get_xticklabels()]


# ---------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------

def test_period_labels_read_as_calendar_names():
    assert trend_chart.period_label(dt.date(2024, 9, 1), "month") == "Sep 2024"
    assert trend_chart.period_label(dt.date(2024, 9, 2), "week") == "2024-W36"
    # ISO weeks belong to the ISO year of their Thursday.
    assert trend_chart.period_label(dt.date(2024, 12, 30), "week") == "2025-W01"
    assert trend_chart.period_label(dt.date(2020, 12, 28), "week") == "2020-W53"
    assert trend_chart.period_label(dt.date(2024, 2, 29), "day") == "2024-02-29"


def test_granularity_follows_the_span():
    first = dt.date(2024, 1, 1)
    assert trend_chart.choose_granularity(first, first) == "day"
    assert trend_chart.choose_granularity(first, first + dt.timedelta(days=12)) == "day"
    assert trend_chart.choose_granularity(first, first + dt.timedelta(days=13)) == "week"
    assert trend_chart.choose_granularity(first, first + dt.timedelta(days=59)) == "week"
    assert trend_chart.choose_granularity(first, first + dt.timedelta(days=60)) == "month"


def test_period_count():
    assert trend_chart.period_count(dt.date(2024, 2, 28), dt.date(2024, 3, 1), "day") == 3
    # Sun 2024-12-29 is in 2024-W52, Mon 2024-12-30 starts 2025-W01.
    assert trend_chart.period_count(dt.date(2024, 12, 29), dt.date(2024, 12, 30), "week") == 2
    assert trend_chart.period_count(dt.date(2024, 12, 30), dt.date(2025, 1, 5), "week") == 1
    assert trend_chart.period_count(dt.date(2023, 10, 31), dt.date(2024, 9, 1), "month") == 12
    assert trend_chart.period_count(dt.date(2024, 9, 1), dt.date(2024, 9, 30), "month") == 1


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------

def test_trend_numbers_are_the_shares_per_period():
    frame = modality_year("month")
    numbers = trend_chart.trend_numbers(frame)
    assert numbers["period"].tolist()[:4] == ["Oct 2023", "Nov 2023", "Dec 2023", "Jan 2024"]
    assert numbers["period"].iloc[-1] == "Sep 2024" and len(numbers) == 12
    # Tabular has no downloads: left out; the others in the frame's key order.
    assert list(numbers.columns[5:]) == [m for m in MODALITIES if m != "tabular"]
    for index, row in numbers.iterrows():
        counts = [growing_audio(index, k) for k in range(len(MODALITIES))]
        assert row["downloads"] == sum(counts)
        assert row["audio"] == pytest.approx(100 * counts[2] / sum(counts))
    assert (numbers["first_day"].iloc[0], numbers["last_day"].iloc[-1]) == (
        dt.date(2023, 10, 4), dt.date(2024, 9, 20))


def test_a_breakdown_trend_folds_the_rest():
    keys = [f"task-{i}" for i in range(11)]
    frame = trend_frame(dt.date(2024, 1, 1), dt.date(2024, 3, 31), "month", keys,
                        lambda i, k: (20 - k) * (i + 1), dimension="task")
    numbers = trend_chart.trend_numbers(frame, top=4)
    assert list(numbers.columns[5:]) == keys[:4] + ["all 7 other tasks"]
    for index, row in numbers.iterrows():
        total = sum((20 - k) * (index + 1) for k in range(11))
        assert row["all 7 other tasks"] == pytest.approx(
            100 * sum((20 - k) * (index + 1) for k in range(4, 11)) / total)
    with pytest.raises(ValueError, match="top: must be at least 1"):
        trend_chart.trend_numbers(frame, top=0)


# ---------------------------------------------------------------------------------------------
# The chart
# ---------------------------------------------------------------------------------------------

def test_modality_trend_takes_the_palette_and_says_what_moved(tmp_path):
    frame = modality_year("month")
    figure = trend_chart.trend_chart(frame)

    shown = [m for m in MODALITIES if m != "tabular"]
    assert band_colors(figure) == [matplotlib.colors.to_rgba(charts.MODALITY_COLORS[m])
                                   for m in shown]
    numbers = trend_chart.trend_numbers(frame)
    expected = [f"{charts.MODALITY_LABELS[m]}: {numbers[m].iloc[0]:.2f}% → "
                f"{numbers[m].iloc[-1]:.2f}%" for m in reversed(shown)]  # top band first
    assert [t.get_text() for t in legend_texts(figure)] == expected
    texts = texts_of(figure)
    assert "Share of downloads by modality, per month" in texts
    assert (f"4 Oct 2023 – 20 Sep 2024 · 12 months · {frame['downloads'].sum():,} downloads"
            in texts)
    assert any("Partial months: Oct 2023 (4 Oct 2023 – 31 Oct 2023); Sep 2024 (1 Sep 2024 – "
               "20 Sep 2024)." in text for text in texts)
    labels = tick_labels(figure)
    assert set(labels) <= set(numbers["period"]) and len(labels) >= 4
    assert figure.axes[0].get_ylim() == (0, 100)
    assert_clear(figure)
    assert_pyplot_managed(figure)
    assert_good_png(figure, tmp_path / "trend.png")


@pytest.mark.parametrize("granularity,first,last", [
    ("month", dt.date(2022, 1, 1), dt.date(2024, 12, 31)),   # 36 months
    ("week", dt.date(2023, 9, 25), dt.date(2024, 9, 29)),    # 53 ISO weeks
    ("week", dt.date(2024, 8, 1), dt.date(2024, 9, 20)),     # 8 weeks
    ("day", dt.date(2023, 9, 21), dt.date(2024, 9, 20)),     # 366 days (a leap year)
    ("day", dt.date(2024, 9, 1), dt.date(2024, 9, 12)),
    ("day", dt.date(2024, 9, 20), dt.date(2024, 9, 20)),     # one period: a stacked column
])
@pytest.mark.parametrize("kind", ["area", "lines"])
def test_no_text_overlaps_at_any_length(granularity, first, last, kind):
    frame = trend_frame(first, last, granularity, MODALITIES, growing_audio)
    figure = trend_chart.trend_chart(frame, kind=kind)
    numbers = trend_chart.trend_numbers(frame)
    labels = tick_labels(figure)
    assert labels and set(labels) <= set(numbers["period"])
    if granularity == "month" and len(numbers) > 12:
        # Calendar steps: January, or every 3rd or 6th month from January.
        assert all(label[:3] in ("Jan", "Apr", "Jul", "Oct") for label in labels), labels
    if granularity == "day" and len(numbers) > 60:
        assert all(label.endswith("-01") for label in labels), labels  # 1sts of months
    assert_clear(figure)
    assert_pyplot_managed(figure)


def test_periods_without_downloads_are_named():
    frame = trend_frame(dt.date(2024, 1, 1), dt.date(2024, 6, 30), "month", MODALITIES,
                        lambda i, k: 0 if i in (2, 3) else growing_audio(i, k))
    figure = trend_chart.trend_chart(frame)
    assert any("No downloads in 2 of 6 months (drawn at zero)." in t for t in texts_of(figure))
    assert not any(t.startswith("Partial") for t in texts_of(figure))
    assert_clear(figure)


def test_other_dimensions_take_no_modality_colour():
    keys = ["text-generation", "zero-shot-image-classification-with-a-long-name", "fill-mask",
            "(none)", "unknown"] + [f"task-{i}" for i in range(8)]
    frame = trend_frame(dt.date(2024, 1, 1), dt.date(2024, 4, 30), "week", keys,
                        lambda i, k: (30 - k) * 10 + i, dimension="task")
    figure = trend_chart.trend_chart(frame)
    colors = band_colors(figure)
    assert len(colors) == 9 and len(set(colors)) == 9  # top 8 and "all 5 other tasks"
    assert not set(colors) & MODALITY_COLOR_VALUES
    legend = [t.get_text() for t in legend_texts(figure)]
    assert legend[0].startswith("all 5 other tasks: ")
    assert any(text.startswith("zero-shot-image-classificatio…: ") for text in legend)  # 30
    assert any("(none): catalog records that leave the field empty; unknown: models without a "
               "catalog record." in t for t in texts_of(figure))
    assert_clear(figure)

    top = trend_frame(dt.date(2024, 1, 1), dt.date(2024, 12, 31), "month", ["top 50", "rest"],
                      lambda i, k: 800 + i if k == 0 else 200, dimension="top-authors")
    top.attrs["n"] = 50
    figure = trend_chart.trend_chart(top)
    assert "Share of downloads held by the top 50 organisations, per month" in texts_of(figure)
    assert band_colors(figure) == [matplotlib.colors.to_rgba(charts.NEUTRAL_COLORS["bar"]),
                                   matplotlib.colors.to_rgba(charts.NEUTRAL_COLORS["fill"])]
    assert_clear(figure)


def test_an_empty_trend_says_so():
    frame = trend_frame(dt.date(2024, 1, 1), dt.date(2024, 1, 3), "day", MODALITIES,
                        lambda i, k: 0).iloc[0:0]
    frame.attrs["data_span"] = (dt.date(2024, 5, 1), dt.date(2024, 5, 3))
    figure = trend_chart.trend_chart(frame)
    texts = texts_of(figure)
    assert "No downloads in this period" in texts
    assert ("1 Jan 2024 – 3 Jan 2024: no downloads; the data spans 1 May 2024 – 3 May 2024"
            in texts)


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind: expected 'area' or 'lines'"):
        trend_chart.trend_chart(modality_year("month"), kind="bars")
    with pytest.raises(TypeError, match="Client or a DataFrame"):
        trend_chart.trend_chart("localhost:50051")


# ---------------------------------------------------------------------------------------------
# From a server
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The module's servers (in-memory stores: the chart only reads answers)."""
    with LocalStack(tmp_path_factory.mktemp("trend-chart")) as processes:
        yield processes


@pytest.fixture(scope="module")
def months_served(stack):
    """(client, events) of a server (in-memory store) holding 14 months of downloads of four
    models, audio growing."""
    records = [{"model_id": "org/llm", "pipeline_tag": "text-generation"},
               {"model_id": "org/asr", "pipeline_tag": "automatic-speech-recognition"},
               {"model_id": "org/vit", "pipeline_tag": "image-classification"}]
    events = []
    for month in range(14):
        day = dt.date(2023 + (8 + month) // 12, (8 + month) % 12 + 1, 10)
        events += [{"model_id": "org/llm", "timestamp": day, "count": 1000},
                   {"model_id": "org/asr", "timestamp": day, "count": 100 + 50 * month},
                   {"model_id": "org/vit", "timestamp": day, "count": 300},
                   {"model_id": "solo/orphan", "timestamp": day, "count": 7}]
    with hubstats.Client(stack.start_server(None, name="months").target) as client:
        client.upsert_models(records)
        assert client.ingest(events)["rejected"] == 0
        yield client, events


def test_chart_of_a_server_trend(months_served, tmp_path):
    client, events = months_served
    figure = trend_chart.trend_chart(client)  # Months, by modality, every day with data.
    texts = texts_of(figure)
    assert (f"10 Sep 2023 – 10 Oct 2024 · 14 months · {sum(e['count'] for e in events):,} "
            "downloads") in texts
    first, last = (100 * 100 / 1407, 100 * 750 / 2057)
    assert f"Audio: {first:.2f}% → {last:.2f}%" in [t.get_text() for t in legend_texts(figure)]
    assert_clear(figure)
    assert_good_png(figure, tmp_path / "served.png")

    only_audio = trend_chart.trend_chart(client, dimension="top-models", n=1, modality="audio",
                                         granularity="month", start="2024-01-01",
                                         end="2024-03-31")
    texts = texts_of(only_audio)
    assert "Share of downloads held by the top 1 models, per month" in texts
    assert any("Audio only" in text for text in texts)
    assert_clear(only_audio)


def test_chart_of_an_empty_server_says_so(stack):
    with hubstats.Client(stack.start_server(None, name="empty").target) as client:
        texts = texts_of(trend_chart.trend_chart(client, granularity="week"))
    assert "No downloads in this period" in texts
    assert any(text.startswith("No downloads on the server") for text in texts)
