"""The CLI end to end on a redis-backed server: a few hundred thousand events and a catalog,
with bad lines mixed in, answered exactly (integers equal, shares to 1e-9), all time and for a
date range, before and after a catalog update that reclassifies the most downloaded models.

Expected answers are recomputed here from the files the test writes, by brute force.
"""

import collections
import csv
import datetime
import json
import random
import subprocess

import pytest

from hubstats._local import cli_binary

CLI = str(cli_binary())

# The subset of the Hub's task table these files use; anything else is "other".
TASKS = {
    "fill-mask": "nlp", "text-generation": "nlp", "sentence-similarity": "nlp",
    "image-classification": "computer_vision", "object-detection": "computer_vision",
    "automatic-speech-recognition": "audio", "audio-classification": "audio",
    "image-text-to-text": "multimodal", "time-series-forecasting": "time_series",
}
TAGS = list(TASKS) + ["made-up-task", ""]
SIZES = [0, 30_000_000, 110_000_000, 199_999_999, 200_000_000, 335_000_000, 499_999_999,
         500_000_000, 770_000_000, 1_000_000_000, 7_000_000_000, 70_000_000_000]
FIRST_DAY = datetime.date(2024, 8, 1)
DAYS = 61  # 2024-08-01 .. 2024-09-30


def run_cli(target, *args):
    result = subprocess.run([CLI, "--target", target, *args, "--json"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class Truth:
    def __init__(self):
        self.events = []       # (model, day, count)
        self.catalog = {}      # model -> (tag, parameters)

    def modality(self, model):
        if model not in self.catalog:
            return "unknown"
        return TASKS.get(self.catalog[model][0], "other")

    def per_model(self, first=None, last=None):
        downloads = collections.Counter()
        for model, day, count in self.events:
            if (first is None or day >= first) and (last is None or day <= last):
                downloads[model] += count
        return downloads


def share(part, whole):
    return part * 100.0 / whole if whole else 0.0


def write_events(path, random_source, models):
    """Writes the JSONL file; returns the accepted events and the line numbers of bad lines."""
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(models))]
    picks = random_source.choices(models, weights, k=300_000)
    good, bad_lines = [], set()
    with open(path, "w") as out:
        for line_number, model in enumerate(picks, start=1):
            day = FIRST_DAY + datetime.timedelta(days=random_source.randrange(DAYS))
            moment = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc)
            moment += datetime.timedelta(seconds=random_source.randrange(86_400))
            count = random_source.randint(1, 5_000)
            event = {"model_id": model, "count": count}
            event["timestamp"] = (moment.isoformat().replace("+00:00", "Z")
                                  if line_number % 2 else int(moment.timestamp()))
            if line_number % 5 == 0:
                event["revision"] = "main"
            kind = random_source.randrange(100)
            if kind == 0:
                out.write("{this is not json\n")
            elif kind == 1:
                out.write(json.dumps({"count": 3}) + "\n")
            elif kind == 2:
                event["model_id"] = "bad--id/x"
                out.write(json.dumps(event) + "\n")
            elif kind == 3:
                event["count"] = 0
                out.write(json.dumps(event) + "\n")
            elif kind == 4:
                event["timestamp"] = "2014-06-01T00:00:00Z"
                out.write(json.dumps(event) + "\n")
            else:
                out.write(json.dumps(event) + "\n")
                good.append((model, day.isoformat(), count))
                continue
            bad_lines.add(line_number)
    return good, bad_lines


def write_catalog(path, models, random_source, truth, bad_every=0):
    """Writes a catalog CSV; updates `truth`; returns the line numbers of bad rows."""
    bad_lines = set()
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["model_id", "pipeline_tag", "num_parameters", "library_name"])
        line = 1
        for index, model in enumerate(models):
            line += 1
            if bad_every and index % bad_every == bad_every - 1:
                writer.writerow([model, "Bad Tag", "", "has, a comma"])
                bad_lines.add(line)
                continue
            tag = random_source.choice(TAGS)
            parameters = random_source.choice(SIZES)
            writer.writerow([model, tag, parameters or "", "transformers"])
            truth.catalog[model] = (tag, parameters)
    return bad_lines


def check_queries(target, truth, first=None, last=None):
    range_args = []
    if first:
        range_args += ["--from", first]
    if last:
        range_args += ["--to", last]
    downloads = truth.per_model(first, last)
    total = sum(downloads.values())
    assert total > 0

    modality = run_cli(target, "modality", *range_args)
    expected = collections.Counter()
    for model, count in downloads.items():
        expected[truth.modality(model)] += count
    assert modality["total_downloads"] == total
    assert len(modality["rows"]) == 9
    for row in modality["rows"]:
        assert row["downloads"] == expected[row["modality"]], row
        assert row["share_pct"] == pytest.approx(share(expected[row["modality"]], total), abs=1e-9)

    sizes = run_cli(target, "sizes", *range_args)
    edges = [200_000_000, 500_000_000, 1_000_000_000]
    classes = [0] * 4
    unknown = 0
    for model, count in downloads.items():
        parameters = truth.catalog.get(model, ("", 0))[1]
        if parameters == 0:
            unknown += count
        else:
            classes[sum(parameters >= edge for edge in edges)] += count
    known = total - unknown
    assert (sizes["total_downloads"], sizes["known_downloads"], sizes["unknown_downloads"]) == (
        total, known, unknown)
    cumulative = 0
    for row, count in zip(sizes["rows"], classes, strict=True):
        cumulative += count
        assert row["downloads"] == count, row
        assert row["share_pct"] == pytest.approx(share(count, total), abs=1e-9)
        assert row["share_of_known_pct"] == pytest.approx(share(count, known), abs=1e-9)
        assert row["cumulative_pct"] == pytest.approx(share(cumulative, known), abs=1e-9)

    for by in ("model", "author"):
        top = run_cli(target, "top", "--n", "50", "--by", by, *range_args)
        per_id = collections.Counter()
        for model, count in downloads.items():
            per_id[model if by == "model" else model.split("/")[0]] += count
        ranked = sorted(per_id.items(), key=lambda item: (-item[1], item[0]))[:50]
        assert [(row["id"], row["downloads"]) for row in top["rows"]] == ranked
        top_sum = sum(count for _, count in ranked)
        assert top["total_downloads"] == total
        assert top["top_share_pct"] == pytest.approx(share(top_sum, total), abs=1e-9)
        running = 0
        for row, (_, count) in zip(top["rows"], ranked):
            running += count
            assert row["cumulative_pct"] == pytest.approx(share(running, total), abs=1e-9)


def test_cli_answers_exactly_through_a_catalog_update(server, tmp_path):
    random_source = random.Random(2024)
    models = [f"org{index % 400}/model-{index}" for index in range(3_000)] + ["gpt2", "t5-small"]
    random_source.shuffle(models)
    truth = Truth()

    catalog_path = tmp_path / "catalog.csv"
    catalogued = models[: int(len(models) * 0.7)]
    bad_catalog_lines = write_catalog(catalog_path, catalogued, random_source, truth, bad_every=97)
    summary = run_cli(server.target, "catalog", str(catalog_path))
    assert summary["rejected"] == len(bad_catalog_lines)
    assert summary["accepted"] == len(catalogued) - len(bad_catalog_lines)
    assert {error["line"] for error in summary["errors"]} == bad_catalog_lines
    assert all(error["reason"].startswith("pipeline_tag: ") for error in summary["errors"])

    events_path = tmp_path / "events.jsonl"
    truth.events, bad_event_lines = write_events(events_path, random_source, models)
    summary = run_cli(server.target, "ingest", str(events_path))
    assert summary["accepted"] == len(truth.events)
    assert summary["rejected"] == len(bad_event_lines)
    assert summary["accepted_downloads"] == sum(count for _, _, count in truth.events)
    assert [error["line"] for error in summary["errors"]] == sorted(bad_event_lines)

    check_queries(server.target, truth)
    check_queries(server.target, truth, "2024-08-20", "2024-09-10")

    # Reclassify the thirty most downloaded models (new task and size), then ask again.
    popular = [model for model, _ in truth.per_model().most_common(30)]
    update_path = tmp_path / "update.csv"
    before = {model: (truth.modality(model), truth.catalog.get(model)) for model in popular}
    write_catalog(update_path, popular, random.Random(99), truth)
    changed = sum(before[model] != (truth.modality(model), truth.catalog.get(model))
                  for model in popular)
    summary = run_cli(server.target, "catalog", str(update_path))
    assert summary["accepted"] == len(popular)
    assert changed > 10
    check_queries(server.target, truth)
    check_queries(server.target, truth, "2024-08-20", "2024-09-10")
