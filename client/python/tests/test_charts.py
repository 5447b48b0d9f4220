"""hubstats.charts: figures render from a real server, show the right numbers, and the CLI
writes four PNGs and prints the numbers behind them. Expected numbers are computed here from
the data each test sends."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import struct
import subprocess
import sys
from pathlib import Path

import matplotlib.colors
import matplotlib.pyplot as plt
import matplotlib.text
import pandas as pd
import pytest
from matplotlib.figure import Figure

import hubstats
from hubstats import charts

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
        "unknown_pct": 100 * (total - known_total) / total,
        "top_k_pct": top_k,
        "orgs": [(org, d, 100 * d / total) for org, d in orgs],
    }


@pytest.fixture
def report(server):
    """(client, events, facts) of a server holding dataset()."""
    records, events, facts = dataset()
    with hubstats.Client(server.target) as client:
        client.upsert_models(records)
        assert client.ingest(events)["accepted"] == len(events)
        yield client, events, facts


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

    assert list(numbers["label"]) == ["<200M", "<500M", "<1B"]
    assert numbers["cumulative_pct"].tolist() == pytest.approx(
        [expected["cumulative_pct"][label] for label in numbers["label"]])
    texts = texts_of(figure)
    for pct in expected["cumulative_pct"].values():
        assert f"{pct:.2f}%" in texts
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


@pytest.mark.parametrize("n", [5, 15, 50, 100])
def test_bar_charts_grow_with_n_and_no_labels_overlap(n):
    top = organisations(120, long_names=True)
    figure = charts.top_organisations_chart(top, n=n)  # n applies to a DataFrame too.
    assert len(figure.axes[0].patches) == n
    assert f"Top {n} organisations by downloads" in texts_of(figure)
    assert assert_no_overlaps(figure) > 2 * n  # Every bar's name and share is drawn.
    height = figure.get_size_inches()[1]
    assert height >= charts.FIGURE_SIZE[1] and (n <= 15 or height > 0.2 * n)

    keys = [f"library-number-{i}" for i in range(130)]
    downloads = [1_000_000 // (i + 1) + 5 for i in range(130)]
    breakdown = pd.DataFrame({"key": keys, "downloads": downloads,
                              "share_pct": [d * 100 / sum(downloads) for d in downloads]})
    breakdown.attrs.update({"total_downloads": sum(downloads), "by": "library"})
    figure = charts.breakdown_chart(breakdown, n=n)
    assert len(figure.axes[0].patches) == n + 1  # The rest as one bar.
    assert assert_no_overlaps(figure) > 2 * n

    figure = charts.concentration_chart(top, by="author", n=n)
    assert len(figure.axes[0].lines[0].get_xdata()) == n
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
    assert colors[0] == matplotlib.colors.to_rgba(charts.PALETTE[0])
    assert colors[-1] == matplotlib.colors.to_rgba(charts.PALETTE[4])
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


def test_breakdown_for_a_modality_takes_its_colour(report):
    client, _, _ = report
    figure = charts.breakdown_chart(client, by="task", modality="audio")
    assert {bar.get_facecolor() for bar in figure.axes[0].patches} == {
        matplotlib.colors.to_rgba(charts.MODALITY_COLORS["audio"])}
    assert any("Audio only" in text for text in texts_of(figure))


def test_charts_of_an_empty_server_say_so(server, tmp_path):
    with hubstats.Client(server.target) as client:
        for chart in (charts.modality_share_chart, charts.size_share_chart,
                      charts.concentration_chart, charts.top_organisations_chart,
                      charts.breakdown_chart):
            figure = chart(client)
            texts = texts_of(figure)
            assert any(text.startswith("No downloads") for text in texts)
            assert any(text.startswith("All time: no downloads") for text in texts)
            figure.savefig(tmp_path / "empty.png", dpi=charts.DPI)


def test_subtitles_state_the_days_of_the_data(report):
    client, _, _ = report
    one_day = charts.modality_share_chart(client, start=DAYS[1], end=DAYS[1])
    assert any(text.startswith("2 May 2024 · ") for text in texts_of(one_day))
    given = charts.top_organisations_chart(client.top_n(5, by="author"),
                                           span=(DAYS[0], DAYS[2]))
    assert any(text.startswith("1 May 2024 – 3 May 2024 · ") for text in texts_of(given))
    later = charts.modality_share_chart(client, start=dt.date(2024, 6, 1))
    assert any(text.startswith("1 Jun 2024 onwards: no downloads; the data spans 1 May 2024 – "
                               "3 May 2024") for text in texts_of(later))


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


def test_cli_writes_five_pngs_and_prints_the_numbers(report, tmp_path):
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
    assert files == ["modality_share.png", "organisation_concentration.png", "size_share.png",
                     "top_concentration.png", "top_organisations.png"]
    for name in files:
        width, height = png_size(out / name)
        assert width == 1200 and height >= 675
        assert (out / name).stat().st_size > 20_000
    modalities = section(run.stdout, "Modality share")
    assert f"{expected['total']:,} downloads" in modalities
    for modality, downloads in expected["modality_downloads"].items():
        assert line_with(modalities, modality)[1:] == [
            str(downloads), f"{expected['modality_pct'][modality]:.2f}"]
    sizes = section(run.stdout, "Cumulative share")
    for label, pct in expected["cumulative_pct"].items():
        assert line_with(sizes, label)[1:] == [f"{pct:.2f}"]
    assert f"({expected['unknown_pct']:.2f}% of all downloads)" in sizes
    concentration = section(run.stdout, "Share held by the top k models")
    for k, pct in expected["top_k_pct"].items():
        assert line_with(concentration, str(k))[-1] == f"{pct:.2f}"
    organisations = section(run.stdout, "Top ")
    assert len(expected["orgs"]) == len(ORGS)
    for rank, (org, downloads, pct) in enumerate(expected["orgs"], start=1):
        assert line_with(organisations, str(rank))[1:] == [org, str(downloads), f"{pct:.2f}"]


def test_cli_reports_server_errors(server, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "hubstats.charts", "--target", server.target, "--out",
         str(tmp_path), "--from", "2024-05-03", "--to", "2024-05-01"],
        cwd=CLIENT_DIR, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "range.end" in run.stderr
