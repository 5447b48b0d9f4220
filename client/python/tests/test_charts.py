"""hubstats.charts: figures render from a real server, show the right numbers, never overlap
their labels at any n, and the CLI writes the PNGs (five, and the trend when the data span
more than one period) and prints the numbers behind them.
Expected numbers are computed here from the data each test sends (or the synthetic hub's own
event stream). One server per data set serves the whole module."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib.collections
import matplotlib.path
import matplotlib.colors
import matplotlib.pyplot as plt
import matplotlib.text
import pandas as pd
import pytest
from matplotlib.figure import Figure

import hubstats
from hubstats import _convert as convert
from hubstats import charts, synth
from hubstats._local import LocalStack

CLIENT_DIR = Path(__file__).resolve().parents[1]
DAYS = [dt.date(2024, 5, 1), dt.date(2024, 5, 2), dt.date(2024, 5, 3)]
ORGS = ["google", "meta-llama", "openai", "microsoft", "mistralai", "Qwen", "nvidia", "BAAI",
        "intfloat", "timm", "pyannote", "laion"]
MODALITIES = ["nlp", "nlp", "nlp", "computer_vision", "computer_vision", "audio", "multimodal"]
SIZES = [50_000_000, 120_000_000, 300_000_000, 700_000_000, 7_000_000_000, None]
TASKS = ["text-generation", "fill-mask", None, "image-classification",
         "automatic-speech-recognition", "image-text-to-text", "text-classification",
         "feature-extraction"]
MODEL_COUNT = 150
#: A small synthetic hub (as tests/test_synth.py loads it): 30 days, the report's figures.
SYNTHETIC = dict(seed=3, models=3000, events=20000)
MODALITY_COLOR_VALUES = {matplotlib.colors.to_rgba(c) for c in charts.MODALITY_COLORS.values()}


def dataset():
    """(records, events, facts): 150 models with falling downloads on three days; every 10th
    model has no catalog record. facts maps model id -> (modality, num_parameters)."""
    records, events, facts = [], [], {}
    for i in range(MODEL_COUNT):
        model_id = f"{ORGS[(i * 7) % len(ORGS)]}/model-{i:03d}"
        modality, size = MODALITIES[i % len(MODALITIES)], SIZES[i % len(SIZES)]
        if i % 10 == 9:
            modality, size = "unknown", None
        else:
            records.append({"model_id": model_id, "modality": modality, "num_parameters": size,
                            "pipeline_tag": TASKS[i % len(TASKS)]})
        facts[model_id] = (modality, size)
        for j, day in enumerate(DAYS):
            events.append({"model_id": model_id, "timestamp": day,
                           "count": 3_000_000 // (i + 1) + 17 * j + 1})
    return records, events, facts


def expected_numbers(events, facts, days=DAYS):
    """Independent recomputation of every chart's numbers for events on `days`."""
    per_model = collections.Counter()
    for event in events:
        if event["timestamp"] in days:
            per_model[event["model_id"]] += event["count"]
    total = sum(per_model.values())
    by_modality = collections.Counter()
    for model_id, downloads in per_model.items():
        by_modality[facts[model_id][0]] += downloads
    known = {m: d for m, d in per_model.items() if facts[m][1] is not None}
    known_total = sum(known.values())
    cumulative = {f"<{label}": 100 * sum(d for m, d in known.items() if facts[m][1] < bound)
                  / known_total
                  for label, bound in (("200M", 200e6), ("500M", 500e6), ("1B", 1e9))}
    above_1b = 100 * sum(d for m, d in known.items() if facts[m][1] >= 1e9) / known_total
    ranking = sorted(per_model.items(), key=lambda item: (-item[1], item[0]))
    top_k = {k: 100 * sum(d for _, d in ranking[:k]) / total for k in (10, 50, 100)}
    by_org = collections.Counter()
    for model_id, downloads in per_model.items():
        by_org[model_id.split("/")[0]] += downloads
    orgs = sorted(by_org.items(), key=lambda item: (-item[1], item[0]))
    return {
        "total": total,
        "modality_pct": {m: 100 * d / total for m, d in by_modality.items()},
        "modality_downloads": dict(by_modality),
        "cumulative_pct": cumulative,
        "above_1b_pct": above_1b,
        "unknown_pct": 100 * (total - known_total) / total,
        "top_k_pct": top_k,
        "orgs": [(org, d, 100 * d / total) for org, d in orgs],
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The module's servers (in-memory stores: the charts only read answers)."""
    with LocalStack(tmp_path_factory.mktemp("charts")) as processes:
        yield processes


@pytest.fixture(scope="module")
def report(stack):
    """(client, events, facts) of a server holding dataset()."""
    records, events, facts = dataset()
    with hubstats.Client(stack.start_server(None, name="report").target) as client:
        client.upsert_models(records)
        assert client.ingest(events)["accepted"] == len(events)
        yield client, events, facts


@pytest.fixture(scope="module")
def empty_target(stack) -> str:
    return stack.start_server(None, name="empty").target


@pytest.fixture(scope="module")
def synthetic(stack):
    """(client, hub) of a server holding the small synthetic hub."""
    hub = synth.SyntheticHub(**SYNTHETIC)
    with hubstats.Client(stack.start_server(None, name="synthetic").target,
                         timeout=60) as client:
        synth.load(client, hub, batch_size=5000, show_progress=False)
        yield client, hub


def png_size(path: Path) -> tuple[int, int]:
    with open(path, "rb") as png:
        header = png.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def texts_of(figure: Figure) -> list[str]:
    return [text.get_text() for text in figure.findobj(matplotlib.text.Text) if text.get_text()]


def drawn_texts(figure: Figure) -> list[matplotlib.text.Text]:
    """Every text the rendered figure shows: titles, annotations, bar labels, axis labels,
    footnotes and the tick labels within each axis's view."""
    figure.canvas.draw()
    texts = [t for t in figure.texts]
    for axes in figure.axes:
        texts += [axes.title, axes._left_title, axes._right_title, axes.xaxis.label,
                  axes.yaxis.label, *axes.texts]
        for axis in (axes.xaxis, axes.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if low <= tick.get_loc() <= high:
                    texts.append(tick.label1)
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def assert_no_overlaps(figure: Figure) -> int:
    """No two drawn texts overlap, and each lies inside the figure; returns how many."""
    renderer = figure.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in drawn_texts(figure)]
    bounds = figure.bbox
    for text, box in boxes:
        assert box.x0 >= bounds.x0 - 1 and box.x1 <= bounds.x1 + 1, f"{text!r} leaves the figure"
        assert box.y0 >= bounds.y0 - 1 and box.y1 <= bounds.y1 + 1, f"{text!r} leaves the figure"
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert width <= 0.5 or height <= 0.5, f"{a!r} overlaps {b!r}"
    return len(boxes)


def marks_box(figure: Figure) -> matplotlib.text.Text | None:
    """The concentration chart's box of shares ("Top 10: ..."), None without marks."""
    boxes = [t for t in figure.axes[0].texts if t.get_text().startswith("Top ")]
    assert len(boxes) <= 1
    return boxes[0] if boxes else None


def assert_box_covers_no_line(figure: Figure) -> None:
    """The concentration chart's box (if any mark is reached) covers no part of the curve, no
    mark's dashed line and no marker, as drawn."""
    figure.canvas.draw()
    axes = figure.axes[0]
    if marks_box(figure) is None:
        assert not [c for c in axes.collections  # No mark, no dashed line.
                    if isinstance(c, matplotlib.collections.LineCollection)]
        return
    frame = marks_box(figure).get_bbox_patch().get_window_extent()
    for line in axes.lines:
        points = line.get_transform().transform(line.get_xydata())
        if line.get_marker() not in ("None", "none", None, ""):
            reach = line.get_markersize() * figure.dpi / 72 / 2
            for x, y in points:
                assert not frame.padded(reach).contains(x, y), "the box covers a marker"
        if line.get_linestyle() not in ("None", "none", ""):
            path = matplotlib.path.Path(points)
            assert not path.intersects_bbox(frame, filled=False), "the box covers the curve"
    for collection in axes.collections:
        if isinstance(collection, matplotlib.collections.LineCollection):
            for path in collection.get_paths():
                shown = collection.get_transform().transform_path(path)
                assert not shown.intersects_bbox(frame, filled=False), "the box covers a mark"


def assert_pyplot_managed(figure: Figure) -> None:
    """pyplot knows the figure, so fig.show() works in a notebook (without a display it only
    warns that the backend is not interactive)."""
    assert figure.number in plt.get_fignums()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        figure.show()


def assert_good_png(figure: Figure, path: Path) -> None:
    figure.savefig(path, dpi=charts.DPI)
    width, height = png_size(path)
    assert width == charts.FIGURE_SIZE[0] * charts.DPI
    assert height >= charts.FIGURE_SIZE[1] * charts.DPI
    assert path.stat().st_size > 20_000


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_modality_share_chart(report, tmp_path):
    client, events, facts = report
    expected = expected_numbers(events, facts)

    figure = charts.modality_share_chart(client)

    texts = texts_of(figure)
    assert "Share of downloads by modality" in texts
    assert "Share of downloads (%)" in texts
    assert f"1 May 2024 – 3 May 2024 · {expected['total']:,} downloads" in texts
    for modality, pct in expected["modality_pct"].items():
        assert charts.MODALITY_LABELS[modality] in texts
        assert f"{pct:.2f}%" in texts
    # Each modality in its own colour, whatever its rank.
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    by_label = {charts.MODALITY_LABELS[m]: m for m in charts.MODALITY_LABELS}
    assert [bar.get_facecolor() for bar in figure.axes[0].patches] == [
        matplotlib.colors.to_rgba(charts.MODALITY_COLORS[by_label[label]]) for label in labels]
    # pyplot-managed: fig.show() works in a notebook.
    assert figure.canvas.manager is not None and plt.fignum_exists(figure.number)
    assert_no_overlaps(figure)
    assert_good_png(figure, tmp_path / "modality.png")


def test_size_share_chart_notes_unknown_share(report, tmp_path):
    client, events, facts = report
    expected = expected_numbers(events, facts)

    numbers = charts.size_share_numbers(client.size_distribution())
    figure = charts.size_share_chart(client)

    # The report's classes: cumulative below each boundary, then 1B+ beside them (issue 14).
    assert list(numbers["label"]) == ["<200M", "<500M", "<1B", "1B+"]
    assert numbers["lower"].tolist() == [0, 0, 0, 10**9]
    assert numbers["upper"].tolist()[:3] == [200_000_000, 500_000_000, 10**9]
    assert pd.isna(numbers["upper"].iloc[3])
    assert numbers["share_of_known_pct"].tolist() == pytest.approx(
        [*(expected["cumulative_pct"][label] for label in numbers["label"][:3]),
         expected["above_1b_pct"]])
    assert 0 < expected["above_1b_pct"] < 100
    texts = texts_of(figure)
    for pct in [*expected["cumulative_pct"].values(), expected["above_1b_pct"]]:
        assert f"{pct:.2f}%" in texts
    assert [label.get_text() for label in figure.axes[0].get_xticklabels()] == [
        "<200M", "<500M", "<1B", "1B+"]
    colors = [bar.get_facecolor() for bar in figure.axes[0].patches]
    assert colors == [matplotlib.colors.to_rgba(charts.NEUTRAL_COLORS["bar"])] * 3 + [
        matplotlib.colors.to_rgba(charts.NEUTRAL_COLORS["rest"])]
    assert any("The bars <200M to <1B are cumulative (each includes the smaller models); 1B+ "
               "holds the rest." in text for text in texts)
    assert any(f"{expected['unknown_pct']:.2f}% of all downloads" in text for text in texts)
    assert "Share of known-size downloads (%)" in texts
    assert_no_overlaps(figure)
    assert_good_png(figure, tmp_path / "sizes.png")


def test_concentration_chart_marks_10_50_100(report, tmp_path):
    client, events, facts = report
    expected = expected_numbers(events, facts)

    top = client.top_n(1000)
    figure = charts.concentration_chart(top)

    assert len(top) == MODEL_COUNT
    numbers = charts.concentration_numbers(top)
    assert numbers["k"].tolist() == [10, 50, 100]
    assert numbers["cumulative_pct"].tolist() == pytest.approx(
        [expected["top_k_pct"][k] for k in (10, 50, 100)])
    box = "\n".join(f"Top {k}: {pct:.2f}%" for k, pct in expected["top_k_pct"].items())
    assert box in texts_of(figure)
    assert figure.axes[0].get_xscale() == "log"
    assert "Share of all downloads (%)" in texts_of(figure)
    assert_no_overlaps(figure)
    assert_good_png(figure, tmp_path / "concentration.png")


def organisations(count: int, long_names: bool = False) -> pd.DataFrame:
    """A top_n(by="author") DataFrame of `count` organisations with falling downloads."""
    names = [(f"organisation-with-a-rather-long-name-{i:03d}" if long_names else f"org{i:03d}")
             for i in range(count)]
    downloads = [10_000_000 // (i + 1) ** 1.1 + 1 for i in range(count)]
    total = int(sum(downloads)) + 1_000_000  # A tail of smaller organisations besides.
    frame = pd.DataFrame({"rank": range(1, count + 1), "id": names,
                          "downloads": [int(d) for d in downloads]})
    frame["share_pct"] = frame["downloads"] * 100 / total
    frame["cumulative_pct"] = frame["downloads"].cumsum() * 100 / total
    frame.attrs.update({"total_downloads": total, "by": "author", "start": None, "end": None,
                        "first_day": dt.date(2024, 5, 1), "last_day": dt.date(2024, 8, 31)})
    return frame


def test_organisation_concentration_marks_the_top_50(tmp_path):
    top = organisations(120)
    expected = float(top["downloads"].iloc[:50].sum()) * 100 / top.attrs["total_downloads"]
    figure = charts.concentration_chart(top, by="author")
    texts = texts_of(figure)
    assert "Concentration of downloads among organisations" in texts
    assert (f"1 May 2024 – 31 Aug 2024 · the top 50 organisations hold {expected:.2f}% of "
            f"{top.attrs['total_downloads']:,} downloads") in texts
    assert any(f"Top 50: {expected:.2f}%" in text for text in texts)
    assert_no_overlaps(figure)


def library_breakdown(count: int) -> pd.DataFrame:
    """A breakdown(by="library") DataFrame of `count` libraries with falling downloads."""
    keys = [f"library-number-{i}" for i in range(count)]
    downloads = [1_000_000 // (i + 1) + 5 for i in range(count)]
    frame = pd.DataFrame({"key": keys, "downloads": downloads,
                          "share_pct": [d * 100 / sum(downloads) for d in downloads]})
    frame.attrs.update({"total_downloads": sum(downloads), "by": "library"})
    return frame


def modality_frame(count: int) -> pd.DataFrame:
    """A modality_share() DataFrame whose first `count` modalities (of nine, the longest
    labels included) have downloads, some of them tiny."""
    names = ["nlp", "computer_vision", "audio", "multimodal", "time_series", "other",
             "tabular", "unknown", "reinforcement_learning"]
    downloads = [10 ** (9 - i) if i < count else 0 for i in range(len(names))]
    total = sum(downloads)
    frame = pd.DataFrame({"modality": names, "downloads": downloads,
                          "share_pct": [d * 100 / total for d in downloads]})
    frame.attrs.update({"total_downloads": total, "start": None, "end": None})
    return frame


def size_frame(classes: int) -> pd.DataFrame:
    """A size_distribution() DataFrame of `classes` bounded classes (boundaries 1M, 2M, ...)
    and the open-ended last one."""
    bounds = [(i + 1) * 10**6 for i in range(classes)]
    lower, upper = [0, *bounds], [*bounds, None]
    downloads = [1000 + 37 * i for i in range(classes + 1)]
    known = sum(downloads)
    cumulative = list(itertools.accumulate(downloads))
    frame = pd.DataFrame({
        "label": [f"class-{i}" for i in range(classes + 1)],
        "lower": lower,
        "upper": pd.array(upper, dtype="Int64"),
        "downloads": downloads,
        "share_pct": [d * 80 / known for d in downloads],
        "share_of_known_pct": [d * 100 / known for d in downloads],
        "cumulative_pct": [c * 100 / known for c in cumulative],
    })
    frame.attrs.update({"total_downloads": known * 5 // 4, "known_downloads": known,
                        "unknown_downloads": known // 4, "unknown_share_pct": 20.0,
                        "boundaries": bounds, "start": None, "end": None})
    return frame


@pytest.mark.parametrize("n", [5, 15, 50, 100])
def test_no_labels_overlap_at_any_n(n):
    """Every chart at n bars (the modality chart at up to its nine): no two drawn texts
    overlap, none leaves the figure, and the figure is pyplot's."""
    top = organisations(120, long_names=True)
    figure = charts.top_organisations_chart(top, n=n)  # n applies to a DataFrame too.
    assert len(figure.axes[0].patches) == n
    assert f"Top {n} organisations by downloads" in texts_of(figure)
    assert assert_no_overlaps(figure) > 2 * n  # Every bar's name and share is drawn.
    assert_pyplot_managed(figure)

    figure = charts.breakdown_chart(library_breakdown(130), n=n)
    assert len(figure.axes[0].patches) == n + 1  # The rest as one bar.
    assert assert_no_overlaps(figure) > 2 * n
    assert_pyplot_managed(figure)

    figure = charts.concentration_chart(top, by="author", n=n)
    assert n <= max(figure.axes[0].lines[0].get_xdata()) <= n + 1  # The curve ends at rank n.
    assert_no_overlaps(figure)
    assert_box_covers_no_line(figure)
    assert_pyplot_managed(figure)

    shown = min(n, 9)
    figure = charts.modality_share_chart(modality_frame(shown))
    assert len(figure.axes[0].patches) == shown
    assert assert_no_overlaps(figure) > 2 * shown
    assert_pyplot_managed(figure)

    figure = charts.size_share_chart(size_frame(n))
    assert len(figure.axes[0].patches) == n + 1  # The classes below each boundary, and above.
    assert assert_no_overlaps(figure) > 2 * n
    assert_pyplot_managed(figure)


def test_bar_charts_grow_and_their_fonts_shrink_with_n():
    top = organisations(120)
    heights, fonts = [], []
    for n in (5, 15, 50, 100):
        figure = charts.top_organisations_chart(top, n=n)
        heights.append(figure.get_size_inches()[1])
        fonts.append(figure.axes[0].get_yticklabels()[0].get_fontsize())
        plt.close(figure)
    assert heights[0] == charts.FIGURE_SIZE[1]
    assert heights[0] <= heights[1] < heights[2] < heights[3]
    assert heights[3] >= 100 * 0.15  # At least 0.15 inch a bar.
    assert fonts == sorted(fonts, reverse=True) and fonts[3] < fonts[0]


def test_size_chart_of_many_classes_lies_horizontal():
    figure = charts.size_share_chart(size_frame(charts.SIZE_COLUMNS_MAX + 1))
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == [f"<{i + 1}M" for i in range(charts.SIZE_COLUMNS_MAX + 1)] + [
        f"{charts.SIZE_COLUMNS_MAX + 1}M+"]
    few = charts.size_share_chart(size_frame(charts.SIZE_COLUMNS_MAX))
    assert [label.get_text() for label in few.axes[0].get_xticklabels()] == [
        f"<{i + 1}M" for i in range(charts.SIZE_COLUMNS_MAX)] + [f"{charts.SIZE_COLUMNS_MAX}M+"]
    assert_no_overlaps(few)


def test_the_concentration_box_finds_a_clear_place():
    """A ranking whose leader holds most downloads fills the upper left, and marks near the
    right end fill the lower right: the box then stands beside the axes."""
    top = organisations(100)
    top.loc[0, "downloads"] = int(top["downloads"].sum()) * 9
    total = int(top["downloads"].sum())
    top["share_pct"] = top["downloads"] * 100 / total
    top["cumulative_pct"] = top["downloads"].cumsum() * 100 / total
    top.attrs["total_downloads"] = total
    figure = charts.concentration_chart(top, by="author")
    assert top["cumulative_pct"].iloc[0] > 85
    assert_box_covers_no_line(figure)
    assert_no_overlaps(figure)


def test_organisation_concentration_of_the_synthetic_hub(synthetic, tmp_path):
    """The report's headline chart on the synthetic hub: the top 50's share in the subtitle and
    the box, to two decimals, "Top 100" covering neither it nor the curve, and the subtitle
    giving the hub's first and last day."""
    client, hub = synthetic
    by_author, days = collections.Counter(), set()
    for event in hub.events():
        by_author[event["model_id"].split("/")[0]] += event["count"]
        days.add(dt.datetime.fromtimestamp(event["timestamp"], dt.timezone.utc).date())
    total = sum(by_author.values())
    ranked = sorted(by_author.values(), reverse=True)
    top50, top100 = (100 * sum(ranked[:k]) / total for k in (50, 100))
    first, last = min(days), max(days)
    period = f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"

    figure = charts.concentration_chart(client, by="author")

    texts = texts_of(figure)
    assert (f"{period} · the top 50 organisations hold {top50:.2f}% of {total:,} downloads"
            in texts)
    assert f"Top 50: {top50:.2f}%\nTop 100: {top100:.2f}%" in marks_box(figure).get_text()
    assert_no_overlaps(figure)
    assert_box_covers_no_line(figure)
    assert_pyplot_managed(figure)
    assert_good_png(figure, tmp_path / "organisations.png")


def test_size_chart_of_the_synthetic_hub_shows_the_reports_classes(synthetic):
    """The report's size figure on the synthetic hub: <200M, <500M, <1B cumulative and 1B+
    (100 - 92.48 = 7.52% in the report) beside them, each as the hub's catalog and events give
    it, to two decimals."""
    client, hub = synthetic
    parameters = {record["model_id"]: record["num_parameters"] for record in hub.catalog()}
    known = collections.Counter()
    for event in hub.events():
        size = parameters.get(event["model_id"])
        if size:
            known["<200M" if size < 200e6 else "<500M" if size < 500e6 else
                  "<1B" if size < 1e9 else "1B+"] += event["count"]
    total = sum(known.values())
    shares = {"<200M": known["<200M"], "<500M": known["<200M"] + known["<500M"],
              "<1B": total - known["1B+"], "1B+": known["1B+"]}
    shares = {label: 100 * downloads / total for label, downloads in shares.items()}
    assert abs(shares["1B+"] - (100 - 92.48)) <= synth.TOLERANCE_PP

    figure = charts.size_share_chart(client)

    assert [label.get_text() for label in figure.axes[0].get_xticklabels()] == list(shares)
    assert [t.get_text() for t in figure.axes[0].texts if t.get_text().endswith("%")] == [
        f"{pct:.2f}%" for pct in shares.values()]  # The bars' labels.
    assert_no_overlaps(figure)


def test_top_organisations_chart(report, tmp_path):
    client, events, facts = report
    expected = expected_numbers(events, facts)

    figure = charts.top_organisations_chart(client, n=10)
    from_frame = charts.top_organisations_chart(client.top_n(12, by="author"), n=10)

    for chart in (figure, from_frame):
        texts = texts_of(chart)
        assert "Top 10 organisations by downloads" in texts
        tick_labels = [label.get_text() for label in chart.axes[0].get_yticklabels()]
        assert tick_labels == [org for org, _, _ in expected["orgs"][:10]]
        for _, _, pct in expected["orgs"][:10]:
            assert f"{pct:.2f}%" in texts
    held = sum(pct for _, _, pct in expected["orgs"][:10])
    assert any(f"together {held:.2f}% of {expected['total']:,}" in t for t in texts_of(figure))
    assert_good_png(figure, tmp_path / "orgs.png")


def expected_task_shares(events) -> list[tuple[str, float]]:
    """(task, share %) largest first, ties by name: "(none)" for records without a pipeline
    tag, "unknown" for models without a record (every 10th, as in dataset())."""
    by_task, total = collections.Counter(), 0
    for event in events:
        i = int(event["model_id"].rsplit("-", 1)[1])
        task = "unknown" if i % 10 == 9 else (TASKS[i % len(TASKS)] or "(none)")
        by_task[task] += event["count"]
        total += event["count"]
    return [(task, 100 * downloads / total)
            for task, downloads in sorted(by_task.items(), key=lambda item: (-item[1], item[0]))]


def test_breakdown_chart_shows_the_largest_tasks_and_the_rest(report, tmp_path):
    client, events, _ = report
    expected = expected_task_shares(events)
    assert len(expected) == 9  # seven tags, "(none)" and "unknown"

    numbers = charts.breakdown_numbers(client.breakdown(by="task"), n=4)
    figure = charts.breakdown_chart(client, by="task", n=4)

    assert numbers["key"].tolist() == [task for task, _ in expected[:4]] + ["all 5 other tasks"]
    assert numbers["share_pct"].tolist() == pytest.approx(
        [pct for _, pct in expected[:4]] + [sum(pct for _, pct in expected[4:])])
    texts = texts_of(figure)
    assert "Share of downloads by task" in texts
    tick_labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert tick_labels == numbers["key"].tolist()  # Labels are the DataFrame's keys.
    for pct in numbers["share_pct"]:
        assert f"{pct:.2f}%" in texts
    colors = [bar.get_facecolor() for bar in figure.axes[0].patches]
    assert set(colors[:-1]) == {matplotlib.colors.to_rgba(charts.NEUTRAL_COLORS["bar"])}
    assert colors[-1] == matplotlib.colors.to_rgba(charts.NEUTRAL_COLORS["rest"])
    assert_no_overlaps(figure)
    assert_good_png(figure, tmp_path / "tasks.png")

    # Everything fits: no "other" bar, and the footnote explains "(none)" and "unknown".
    every = charts.breakdown_numbers(client.breakdown(by="task"), n=20)
    assert every["key"].tolist() == [task for task, _ in expected]
    texts = texts_of(charts.breakdown_chart(client, by="task", n=20))
    assert ("(none): catalog records without a task; unknown: models without a catalog "
            "record.") in texts
    with pytest.raises(ValueError, match="n: must be at least 1"):
        charts.breakdown_numbers(client.breakdown(by="task"), n=0)


def test_a_breakdown_of_only_empty_classes_says_no_data():
    frame = pd.DataFrame({"key": ["(none)", "unknown"], "downloads": [90, 10],
                          "share_pct": [90.0, 10.0]})
    frame.attrs.update({"total_downloads": 100, "by": "architecture"})
    figure = charts.breakdown_chart(frame)
    assert not figure.axes[0].patches
    assert "No architecture is known for these downloads (the catalog gives none)" in \
        texts_of(figure)
    # With a known class besides, the bars are drawn and the footnote explains the keys.
    frame = pd.DataFrame({"key": ["(none)", "decoder", "unknown"], "downloads": [80, 15, 5],
                          "share_pct": [80.0, 15.0, 5.0]})
    frame.attrs.update({"total_downloads": 100, "by": "architecture"})
    figure = charts.breakdown_chart(frame)
    assert [label.get_text() for label in figure.axes[0].get_yticklabels()] == [
        "(none)", "decoder", "unknown"]
    assert ("(none): catalog records without an architecture; unknown: models without a "
            "catalog record.") in texts_of(figure)


def test_a_modality_chart_of_only_unknown_modality_says_no_data():
    """Downloads of uncatalogued models only: one 100% "Unknown" bar would say nothing."""
    frame = modality_frame(9)
    frame["downloads"] = [0] * 7 + [500, 0]
    frame["share_pct"] = [0.0] * 7 + [100.0, 0.0]
    frame.attrs["total_downloads"] = 500
    assert frame["modality"].iloc[7] == "unknown"
    figure = charts.modality_share_chart(frame)
    assert not figure.axes[0].patches
    assert ("No modality is known for these downloads (no model has a catalog record)"
            in texts_of(figure))


def test_breakdown_for_a_modality_takes_its_colour(report):
    client, _, _ = report
    for modality in ("audio", "Computer-Vision", "cv"):  # Any spelling the client takes.
        name = convert.modality_name(convert.modality_number(modality))
        figure = charts.breakdown_chart(client, by="task", modality=modality)
        assert {bar.get_facecolor() for bar in figure.axes[0].patches} == {
            matplotlib.colors.to_rgba(charts.MODALITY_COLORS[name])}
        assert any(f"{charts.MODALITY_LABELS[name]} only" in text for text in texts_of(figure))


def test_modality_colours_mean_only_their_modality(report):
    """No bar, line or marker of a chart that does not show modalities takes a modality's
    colour, so a colour reads the same in every chart."""
    client, _, _ = report
    figures = [charts.top_organisations_chart(client), charts.breakdown_chart(client, n=3),
               charts.breakdown_chart(library_breakdown(20)), charts.size_share_chart(client),
               charts.size_share_chart(size_frame(12)), charts.concentration_chart(client),
               charts.concentration_chart(client, by="author")]
    for figure in figures:
        axes = figure.axes[0]
        used = {patch.get_facecolor() for patch in axes.patches}
        for line in axes.lines:
            used |= {matplotlib.colors.to_rgba(line.get_color()),
                     matplotlib.colors.to_rgba(line.get_markerfacecolor())}
        for collection in axes.collections:
            used |= {tuple(color) for color in collection.get_facecolor()}
            used |= {tuple(color) for color in collection.get_edgecolor()}
        assert used and not used & MODALITY_COLOR_VALUES, texts_of(figure)[0]


def test_charts_of_an_empty_server_say_so(empty_target, tmp_path):
    with hubstats.Client(empty_target) as client:
        for chart in (charts.modality_share_chart, charts.size_share_chart,
                      charts.concentration_chart, charts.top_organisations_chart,
                      charts.breakdown_chart):
            figure = chart(client)
            texts = texts_of(figure)
            assert any(text.startswith("No downloads") for text in texts)
            assert any(text.startswith("No downloads on the server · ") for text in texts)
            assert not any("All time" in text for text in texts)
            figure.savefig(tmp_path / "empty.png", dpi=charts.DPI)


def test_subtitles_state_the_days_of_the_data(report):
    client, _, _ = report
    one_day = charts.modality_share_chart(client, start=DAYS[1], end=DAYS[1])
    assert any(text.startswith("2 May 2024 · ") for text in texts_of(one_day))
    wider = charts.modality_share_chart(client, start="2024-04-01", end="2024-06-30")
    assert any(text.startswith("1 May 2024 – 3 May 2024 · ") for text in texts_of(wider))
    given = charts.top_organisations_chart(client.top_n(5, by="author"),
                                           span=(DAYS[0], DAYS[2]))
    assert any(text.startswith("1 May 2024 – 3 May 2024 · ") for text in texts_of(given))
    later = charts.modality_share_chart(client, start=dt.date(2024, 6, 1))
    assert any(text.startswith("1 Jun 2024 onwards: no downloads; the data spans 1 May 2024 – "
                               "3 May 2024") for text in texts_of(later))


def test_charts_of_the_clients_dataframes_state_the_days_of_the_data(report, monkeypatch):
    """Every answer with downloads carries its first and last day with data (attrs first_day,
    last_day), so a chart of the DataFrame, not of the Client, states them: here for a range
    from before the data into it, the days computed from the events sent."""
    client, events, _ = report
    start, end = dt.date(2024, 4, 1), DAYS[1]
    days = [e["timestamp"] for e in events if start <= e["timestamp"] <= end]
    first, last = min(days), max(days)
    stated = f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y} · "
    figures = [charts.modality_share_chart(client.modality_share(start, end)),
               charts.size_share_chart(client.size_distribution(start=start, end=end)),
               charts.concentration_chart(client.top_n(100, start=start, end=end)),
               charts.top_organisations_chart(client.top_n(15, by="author", start=start,
                                                           end=end)),
               charts.breakdown_chart(client.breakdown("task", start, end))]
    for figure in figures:
        assert any(text.startswith(stated) for text in texts_of(figure)), texts_of(figure)[:3]
    # A chart that runs the query asks for the days once: the query's answer carries them.
    calls, data_span = [], client.data_span
    monkeypatch.setattr(client, "data_span", lambda *a, **k: calls.append(a) or data_span(*a, **k))
    figure = charts.modality_share_chart(client, start=start, end=end)
    assert len(calls) == 1 and any(text.startswith(stated) for text in texts_of(figure))


def test_a_dataframe_without_its_days_claims_none(report):
    """A DataFrame without attrs first_day/last_day (built by hand, say) says no more than
    its range."""
    client, _, _ = report
    for chart, frame, said in [
            (charts.modality_share_chart, client.modality_share(), "All days with data · "),
            (charts.top_organisations_chart,
             client.top_n(5, by="author", start="2024-04-01", end="2024-06-30"),
             "Days with data in 1 Apr 2024 – 30 Jun 2024 · "),
            (charts.breakdown_chart, client.breakdown(start="2024-05-02"),
             "Days with data from 2 May 2024 · ")]:
        for key in ("first_day", "last_day"):
            frame.attrs.pop(key, None)
        texts = texts_of(chart(frame))
        assert any(text.startswith(said) for text in texts), texts[:3]
        assert not any("All time" in text for text in texts)


def test_chart_rejects_other_sources():
    with pytest.raises(TypeError, match="Client or a DataFrame"):
        charts.modality_share_chart("localhost:50051")


def test_tiny_shares_are_not_shown_as_zero(tmp_path):
    share = pd.DataFrame({"modality": ["nlp", "audio", "tabular"],
                          "downloads": [999_960, 39, 1],
                          "share_pct": [99.996, 0.0039, 0.0001]})
    share.attrs["total_downloads"] = 1_000_000
    texts = texts_of(charts.modality_share_chart(share))
    assert ">99.99%" in texts and texts.count("<0.01%") == 2
    assert "0.00%" not in texts and "100.00%" not in texts
    assert charts.format_share(92.48) == "92.48%"


def test_format_parameters():
    assert [charts.format_parameters(n) for n in (200_000_000, 10**9, 1_500_000_000, 10**12,
                                                  2_000, 999)] == \
        ["200M", "1B", "1.5B", "1T", "2K", "999"]


def section(output: str, heading: str) -> str:
    """The printed block under the "== <heading>..." line."""
    blocks = output.split("== ")
    matching = [block for block in blocks if block.startswith(heading)]
    assert len(matching) == 1, f"no section {heading!r} in:\n{output}"
    return matching[0]


def line_with(output: str, first_word: str) -> list[str]:
    """The whitespace-separated fields of the output line starting with `first_word`."""
    for line in output.splitlines():
        fields = line.split()
        if fields and fields[0] == first_word:
            return fields
    raise AssertionError(f"no line starts with {first_word!r} in:\n{output}")


def test_cli_writes_the_pngs_and_prints_the_numbers(report, tmp_path):
    client, events, facts = report
    days = DAYS[1:]
    expected = expected_numbers(events, facts, days)
    out = tmp_path / "report"

    run = subprocess.run(
        [sys.executable, "-m", "hubstats.charts", "--target", client.target, "--out", str(out),
         "--from", days[0].isoformat(), "--to", days[-1].isoformat()],
        cwd=CLIENT_DIR, capture_output=True, text=True, timeout=120)

    assert run.returncode == 0, run.stderr
    files = sorted(path.name for path in out.iterdir())
    # Two days of data: more than one period, so the daily modality trend too.
    assert files == ["modality_share.png", "modality_trend.png", "organisation_concentration.png",
                     "size_share.png", "top_concentration.png", "top_organisations.png"]
    for name in files:
        width, height = png_size(out / name)
        assert width == 1200 and height >= 675
        assert (out / name).stat().st_size > 20_000
    modalities = section(run.stdout, "Modality share")
    assert f"{expected['total']:,} downloads" in modalities
    for modality, downloads in expected["modality_downloads"].items():
        assert line_with(modalities, modality)[1:] == [
            str(downloads), f"{expected['modality_pct'][modality]:.2f}"]
    sizes = section(run.stdout, "Share of known-size downloads by model size")
    for label, pct in expected["cumulative_pct"].items():
        assert line_with(sizes, label)[1:] == [f"{pct:.2f}"]
    assert line_with(sizes, "1B+")[1:] == [f"{expected['above_1b_pct']:.2f}"]
    assert f"({expected['unknown_pct']:.2f}% of all downloads)" in sizes
    concentration = section(run.stdout, "Share held by the top k models")
    for k, pct in expected["top_k_pct"].items():
        assert line_with(concentration, str(k))[-1] == f"{pct:.2f}"
    organisations = section(run.stdout, "Top ")
    assert len(expected["orgs"]) == len(ORGS)
    for rank, (org, downloads, pct) in enumerate(expected["orgs"], start=1):
        assert line_with(organisations, str(rank))[1:] == [org, str(downloads), f"{pct:.2f}"]
    trend = section(run.stdout, "Trend: modality share per day")
    header = trend.splitlines()[1].split()
    assert header[:2] == ["period", "downloads"]
    assert sorted(header[2:]) == sorted(expected["modality_pct"])
    for day in days:
        on_day = expected_numbers(events, facts, [day])
        row = dict(zip(header, line_with(trend, day.isoformat())))
        assert row["downloads"] == str(on_day["total"])
        assert {m: row[m] for m in header[2:]} == {
            m: f"{on_day['modality_pct'][m]:.2f}" for m in header[2:]}


def test_cli_reports_server_errors(empty_target, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "hubstats.charts", "--target", empty_target, "--out",
         str(tmp_path), "--from", "2024-05-03", "--to", "2024-05-01"],
        cwd=CLIENT_DIR, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "range.end" in run.stderr
