"""The synthetic hub: report figures through a real server, determinism, valid ids and counts.

Expected figures are the report's numbers written out below, and figures recomputed here from
the generated catalog and event stream with the server's task table file; none comes from the
service.
"""

import datetime as dt
import hashlib
import io
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import hubstats
from hubstats import synth

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parents[1]
TASK_TABLE = REPO / "service" / "core" / "task_modality.tsv"

# The report, as published.
REPORT_MODALITY = {"nlp": 58.1, "computer_vision": 21.2, "audio": 15.1, "multimodal": 3.3,
                   "time_series": 1.7}
REPORT_REST = 0.6  # other + tabular + reinforcement_learning + unknown
REPORT_KNOWN_SIZE = 77.76
REPORT_CUMULATIVE = {"<200M": 69.83, "<500M": 86.33, "<1B": 92.48}
REPORT_TOP50_AUTHORS = 80.22
REPORT_ARCHITECTURE = {"encoder": 45.0, "decoder": 9.5, "encoder-decoder": 3.0}
TOLERANCE = 0.5

SMALL = dict(models=3000, events=20000)

# The Hub's id rules, written independently of the generator.
PART = re.compile(r"(?!.*(--|\.\.))[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?")


def hub_rules_ok(model_id: str) -> bool:
    owner, slash, name = model_id.partition("/")
    return bool(slash) and all(PART.fullmatch(part) for part in (owner, name))


def read_task_table() -> dict:
    table = {}
    for line in TASK_TABLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            tag, modality = line.split()
            table[tag] = modality
    return table


def stream_figures(hub) -> dict:
    """The report's figures recomputed from the generated catalog and events alone."""
    table = read_task_table()
    downloads = defaultdict(int)
    for event in hub.events():
        downloads[event["model_id"]] += event["count"]
    total = sum(downloads.values())
    records = {record["model_id"]: record for record in hub.catalog()}
    modality, known, classes, architecture = defaultdict(int), 0, defaultdict(int), \
        defaultdict(int)
    authors = defaultdict(int)
    for model_id, count in downloads.items():
        authors[model_id.split("/")[0]] += count
        record = records.get(model_id)
        if record is None:
            modality["unknown"] += count
            architecture["unknown"] += count
            continue
        modality[record["modality"] or table.get(record["pipeline_tag"] or "", "other")] += count
        architecture[record["architecture"] or "(none)"] += count
        parameters = record["num_parameters"]
        if parameters:
            known += count
            for label, bound in (("<200M", 200_000_000), ("<500M", 500_000_000),
                                 ("<1B", 1_000_000_000)):
                if parameters < bound:  # classes are half-open [lower, upper)
                    classes[label] += count
    result = {name: 100 * value / total for name, value in modality.items()}
    result["rest"] = sum(result.get(m, 0.0) for m in
                         ("other", "tabular", "reinforcement_learning", "unknown"))
    result["known"] = 100 * known / total
    result.update({label: 100 * classes[label] / known for label in REPORT_CUMULATIVE})
    result["top50"] = 100 * sum(sorted(authors.values(), reverse=True)[:50]) / total
    result.update({f"arch:{key}": 100 * value / total for key, value in architecture.items()})
    result["total"] = total
    result["models_with_downloads"] = len(downloads)
    result["authors"] = len(authors)
    result["catalogued"] = len(records)
    return result


def assert_report_figures(figures: dict) -> None:
    for name, expected in REPORT_MODALITY.items():
        assert abs(figures[name] - expected) <= TOLERANCE, (name, figures[name])
    assert abs(figures["rest"] - REPORT_REST) <= TOLERANCE
    assert abs(figures["known"] - REPORT_KNOWN_SIZE) <= TOLERANCE
    for label, expected in REPORT_CUMULATIVE.items():
        assert abs(figures[label] - expected) <= TOLERANCE, (label, figures[label])
    assert abs(figures["top50"] - REPORT_TOP50_AUTHORS) <= TOLERANCE
    for key, expected in REPORT_ARCHITECTURE.items():
        assert abs(figures[f"arch:{key}"] - expected) <= TOLERANCE, (key, figures[f"arch:{key}"])


def test_service_answers_the_report_figures(server):
    hub = synth.SyntheticHub(seed=3, **SMALL)
    expected = stream_figures(hub)
    assert_report_figures(expected)
    with hubstats.Client(server.target) as client:
        result = synth.load(client, hub, batch_size=5000, show_progress=False)
        assert result["events"]["accepted"] == SMALL["events"]
        assert result["events"]["accepted_downloads"] == expected["total"]
        totals = client.totals()
        share = client.modality_share()
        sizes = client.size_distribution(boundaries=(200e6, 500e6, 1e9))
        top = client.top_n(50, by="author")
        arch = client.breakdown(by="architecture")
    assert totals["total_downloads"] == expected["total"]
    assert totals["models_with_downloads"] == expected["models_with_downloads"]
    assert totals["authors_with_downloads"] == expected["authors"]
    assert hub.authors_with_downloads == expected["authors"]  # What the generator reports.
    assert totals["catalogued_models"] == expected["catalogued"]
    assert totals["first_day"] == dt.date(2024, 8, 22)
    assert totals["last_day"] == dt.date(2024, 9, 20)

    shares = dict(zip(share["modality"], share["share_pct"]))
    measured = dict(shares)
    measured["rest"] = sum(shares[m] for m in ("other", "tabular", "reinforcement_learning",
                                               "unknown"))
    measured["known"] = 100 - sizes.attrs["unknown_share_pct"]
    measured.update(zip(("<200M", "<500M", "<1B"), sizes["cumulative_pct"][:3]))
    measured["top50"] = top.attrs["top_share_pct"]
    measured.update({f"arch:{key}": pct for key, pct in zip(arch["key"], arch["share_pct"])})
    assert_report_figures(measured)
    # The service computes exactly what the stream holds.
    for key in ("nlp", "computer_vision", "audio", "multimodal", "time_series", "rest",
                "known", "<200M", "<500M", "<1B", "top50", "arch:encoder", "arch:decoder",
                "arch:encoder-decoder"):
        assert measured[key] == pytest.approx(expected[key], abs=1e-9), key


@pytest.mark.parametrize("models,events,seed", [(1000, 1000, 1), (1000, 8000, 2),
                                                (12000, 30000, 5)])
def test_figures_hold_at_any_size_and_seed(models, events, seed):
    assert_report_figures(stream_figures(synth.SyntheticHub(seed, models, events)))


def test_figures_hold_for_a_large_hub_without_streaming():
    hub = synth.SyntheticHub(seed=9, models=250_000, events=300_000)
    for key, _, expected in synth.REPORT:
        assert abs(hub.figures()[key] - expected) <= TOLERANCE, key


def digest(hub) -> str:
    sha = hashlib.sha256()
    for record in hub.catalog():
        sha.update(repr(sorted(record.items())).encode())
    for event in hub.events():
        sha.update(f"{event['model_id']} {event['timestamp']} {event['count']}\n".encode())
    return sha.hexdigest()


def test_same_seed_same_stream_other_seed_other_stream():
    first = digest(synth.SyntheticHub(seed=11, models=2000, events=10000))
    again = digest(synth.SyntheticHub(seed=11, models=2000, events=10000))
    other = digest(synth.SyntheticHub(seed=12, models=2000, events=10000))
    assert first == again
    assert first != other


def test_ids_counts_and_times_are_valid():
    hub = synth.SyntheticHub(seed=4, models=5000, events=40000)
    ids = list(hub.model_ids())
    assert len(ids) == len(set(ids)) == 5000
    assert all(hub_rules_ok(model_id) for model_id in ids), \
        [i for i in ids if not hub_rules_ok(i)][:5]
    start = dt.datetime(2024, 8, 22, tzinfo=dt.timezone.utc).timestamp()
    end = dt.datetime(2024, 9, 21, tzinfo=dt.timezone.utc).timestamp()
    known_ids = set(ids)
    events = 0
    total = 0
    for event in hub.events():
        events += 1
        total += event["count"]
        assert isinstance(event["count"], int) and 1 <= event["count"] <= 1_000_000_000
        assert start <= event["timestamp"] < end
        assert event["model_id"] in known_ids
    assert events == 40000
    assert total == hub.total_downloads
    for record in hub.catalog():
        assert hub_rules_ok(record["model_id"])
        parameters = record["num_parameters"]
        assert parameters is None or 1 <= parameters <= 10**15
        assert record["architecture"] in (None, "encoder", "decoder", "encoder-decoder", "other")
        assert record["pipeline_tag"] is None or re.fullmatch(r"[a-z0-9-]{1,64}",
                                                              record["pipeline_tag"])


def test_rule_check_rejects_bad_ids():
    for good in ("org/model", "a_b/c.d-e_", "A1/b2"):
        assert synth.valid_model_id(good) and hub_rules_ok(good)
    for bad in ("model", "a//b", "-org/model", "org/model.", "org/mo--del", "org/mo..del",
                "org/" + "x" * 97, "org/mödel", "a/b/c"):
        assert not synth.valid_model_id(bad), bad


def test_rejects_sizes_it_cannot_honour():
    with pytest.raises(ValueError):
        synth.SyntheticHub(models=10, events=1000)
    with pytest.raises(ValueError):
        synth.SyntheticHub(models=1000, events=10**9)  # more lines than downloads allow


def test_progress_shows_rate_and_percentage():
    stream = io.StringIO()
    progress = synth.Progress("events", 2000, "events", stream, interval=0)
    progress.update(500)
    progress.update(2000, final=True)
    lines = stream.getvalue().splitlines()
    assert "25.0%" in lines[0] and "events/s" in lines[0] and "ETA" in lines[0]
    assert "100.0%" in lines[-1]


# ---------------------------------------------------------------------------------------------
# The history: 12 months of shares moving toward the report's
# ---------------------------------------------------------------------------------------------

TREND = dict(seed=3, models=3000, events=20000, trend_months=12)
WINDOW_START = dt.date(2024, 8, 22)


def month_of(timestamp: int) -> dt.date:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date().replace(day=1)


def monthly_modality_downloads(hub) -> dict:
    """{(1st of month, modality): downloads} recomputed from the catalog, the task table and
    the event stream alone."""
    table = read_task_table()
    records = {record["model_id"]: record for record in hub.catalog()}
    totals = defaultdict(int)
    for event in hub.events():
        record = records.get(event["model_id"])
        modality = ("unknown" if record is None else
                    record["modality"] or table.get(record["pipeline_tag"] or "", "other"))
        totals[(month_of(event["timestamp"]), modality)] += event["count"]
    return totals


def shares_by_month(totals: dict, modality: str) -> list[float]:
    months = sorted({month for month, _ in totals})
    return [100 * totals.get((month, modality), 0)
            / sum(v for (m, _), v in totals.items() if m == month) for month in months]


def test_history_moves_the_shares_toward_the_report():
    hub = synth.SyntheticHub(seed=5, models=20000, events=100000, trend_months=12,
                             history_events=50000)
    totals = monthly_modality_downloads(hub)
    assert sorted({month for month, _ in totals}) == [
        dt.date(2023 + (9 + i) // 12, (9 + i) % 12 + 1, 1) for i in range(12)]
    # The generator's own period totals are exactly what its stream holds.
    expected = hub.period_totals("month")
    assert {key: value for key, value in expected.items() if value} == dict(totals)
    assert sum(totals.values()) == hub.total_downloads
    audio, nlp = shares_by_month(totals, "audio"), shares_by_month(totals, "nlp")
    assert audio[0] < 11 and nlp[0] > 63  # A year before: START_SHARES (9.6%, 64.5%).
    assert abs(audio[-1] - REPORT_MODALITY["audio"]) <= TOLERANCE
    assert abs(nlp[-1] - REPORT_MODALITY["nlp"]) <= TOLERANCE
    assert all(later > earlier - 0.3 for earlier, later in zip(audio, audio[1:])), audio
    assert all(later < earlier + 0.3 for earlier, later in zip(nlp, nlp[1:])), nlp


def test_history_leaves_the_window_as_it_was():
    """The window's events are exactly those of the same hub without history: the report's
    figures hold over the window."""
    plain = synth.SyntheticHub(seed=3, models=3000, events=20000)
    trend = synth.SyntheticHub(**TREND)
    window = [event for event in trend.events() if event["timestamp"] >= dt.datetime(
        2024, 8, 22, tzinfo=dt.timezone.utc).timestamp()]
    assert window == list(plain.events())
    assert trend.window_downloads == plain.total_downloads
    assert trend.total_downloads == plain.total_downloads + trend.history.total_downloads
    assert trend.event_count == 20000 + 1000 == trend.window_events + 1000
    assert trend.first_day == dt.date(2023, 10, 1) and trend.start_day == WINDOW_START
    assert trend.figures() == plain.figures()
    assert digest(trend) == digest(synth.SyntheticHub(**TREND))  # Seeded: the same stream.
    assert digest(trend) != digest(synth.SyntheticHub(**{**TREND, "seed": 4}))


def test_history_events_are_valid_and_in_the_history():
    hub = synth.SyntheticHub(**TREND)
    low = dt.datetime(2023, 10, 1, tzinfo=dt.timezone.utc).timestamp()
    high = dt.datetime(2024, 8, 22, tzinfo=dt.timezone.utc).timestamp()
    history = [e for e in hub.events() if e["timestamp"] < high]
    assert len(history) == hub.history.event_count == 1000
    assert all(low <= e["timestamp"] and 1 <= e["count"] <= 1_000_000_000 for e in history)
    with pytest.raises(ValueError, match="history must begin before the window"):
        synth.SyntheticHub(seed=3, models=3000, events=20000, trend_months=1)


def test_service_trend_equals_the_generators_totals(server):
    hub = synth.SyntheticHub(**TREND)
    with hubstats.Client(server.target, timeout=60) as client:
        synth.load(client, hub, batch_size=5000, show_progress=False)
        served = {granularity: synth.served_trend(client, granularity)
                  for granularity in ("month", "week", "day")}
        measured = synth.measure(client, hub.start_day, hub.end_day)
        totals = client.totals()
    for granularity, answer in served.items():
        assert synth.trend_differences(hub.period_totals(granularity), answer) == [], granularity
    assert len({period for period, _ in served["month"]}) == 12
    assert len({period for period, _ in served["day"]}) == (hub.end_day - hub.first_day).days + 1
    assert (totals["first_day"], totals["last_day"]) == (dt.date(2023, 10, 1), hub.end_day)
    assert all(row["ok"] for row in synth.compare(measured))  # The window: the report.
    # And the check can fail: one download more in one period is named.
    month = min(period for period, _ in served["month"])
    served["month"][(month, "audio")] += 1
    assert synth.trend_differences(hub.period_totals("month"), served["month"]) == [
        f"{month} audio: service {served['month'][(month, 'audio')]}, generator "
        f"{served['month'][(month, 'audio')] - 1}"]


def run_module(*args, timeout=120):
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    return subprocess.run([sys.executable, "-m", *args], cwd=PYTHON_DIR, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_command_line_streams_and_compares(server):
    result = run_module("hubstats.synth", "--target", server.target, "--seed", "2",
                        "--models", "2000", "--events", "10000")
    assert result.returncode == 0, result.stderr
    assert "14 of 14 figures within 0.5 pp" in result.stdout
    assert "events/s" in result.stderr and "100.0%" in result.stderr


def test_command_line_dry_run():
    result = run_module("hubstats.synth", "--dry-run", "--models", "1000", "--events", "2000")
    assert result.returncode == 0, result.stderr
    assert "14 of 14 figures within 0.5 pp" in result.stdout


def test_command_line_trend(server):
    result = run_module("hubstats.synth", "--target", server.target, "--seed", "2",
                        "--models", "2000", "--events", "10000", "--trend-months", "12")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "14 of 14 figures within 0.5 pp" in result.stdout
    assert "Modality share per month, service (%)" in result.stdout
    assert "the service's monthly trend equals the generator's totals" in result.stdout
    months = [line.split()[0] + " " + line.split()[1] for line in result.stdout.splitlines()
              if re.match(r"  (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20", line)]
    assert months[0] == "Oct 2023" and months[-1] == "Sep 2024" and len(months) == 12
