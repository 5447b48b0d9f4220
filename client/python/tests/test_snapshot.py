"""The real snapshot: loaded through a real server, the service answers exactly the CSV.

Expected numbers are computed here from the CSV with the csv module (and the server's task
table file for modality), never taken from the service.
"""

import ast
import csv
import datetime as dt
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import hubstats
from hubstats import snapshot

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parents[1]
CSV = REPO / "data" / "hf_models_top10k_2024-09.csv"
TASK_TABLE = REPO / "service" / "core" / "task_modality.tsv"


@pytest.fixture(scope="module")
def rows():
    with open(CSV, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_data_folder_keeps_the_provenance():
    readme = (REPO / "data" / "README.md").read_text()
    assert "enochlev/CS573_Documentation_Quality" in readme
    assert "076657247d7bdce41b912d59456677c193aa9f57" in readme
    assert "hubstats" in readme


def test_reader_keeps_every_row(rows):
    models = snapshot.read(CSV)
    assert len(models) == len(rows) == 9715
    assert [m.model_id for m in models] == [row["modelId"] for row in rows]
    assert [m.downloads for m in models] == [int(row["downloads"]) for row in rows]
    assert sum(m.downloads for m in models) == sum(int(row["downloads"]) for row in rows)
    assert [m.pipeline_tag for m in models] == [row["pipeline_tag"] or None for row in rows]


def test_library_rule():
    models = {m.model_id: m for m in snapshot.read(CSV)}
    assert models["google-bert/bert-base-uncased"].library_name == "transformers"
    assert models["sentence-transformers/all-MiniLM-L6-v2"].library_name == \
        "sentence-transformers"
    assert models["nesaorg/fc_24"].library_name is None  # tags start with 'safetensors'
    assert snapshot.library_from_tags(["pytorch", "safetensors", "region:us"]) is None
    assert snapshot.library_from_tags(["timm", "pytorch"]) == "timm"
    # A declared library comes first in the Hub's tags; the rule takes it whenever it is known.
    differing = []
    for model in models.values():
        if model.tags and model.tags[0] in snapshot.KNOWN_LIBRARIES:
            assert model.library_name == model.tags[0]
        elif model.library_name is not None:
            differing.append((model.tags[0], model.library_name))
    assert sorted(differing) == [("axolotl", "gguf"), ("ggml", "gguf"), ("ggml", "gguf"),
                                 ("llamacpp", "gguf")]


def test_records_and_events_shape():
    model = snapshot.read(CSV)[0]
    assert model.record() == {"model_id": model.model_id, "pipeline_tag": model.pipeline_tag,
                              "modality": None, "num_parameters": None, "architecture": None,
                              "library_name": model.library_name}
    event = model.event()
    assert event["count"] == model.downloads
    assert event["timestamp"].date() == dt.date(2024, 9, 20)


def test_service_answers_exactly_the_csv(server, rows):
    expected_total = sum(int(row["downloads"]) for row in rows)
    expected_per_model = {row["modelId"]: int(row["downloads"]) for row in rows}
    expected_authors = defaultdict(int)
    for row in rows:
        expected_authors[row["author"]] += int(row["downloads"])
    table = {}
    for line in TASK_TABLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            tag, modality = line.split()
            table[tag] = modality
    expected_modality = defaultdict(int)
    for row in rows:
        expected_modality[table.get(row["pipeline_tag"], "other")] += int(row["downloads"])

    models = snapshot.read(CSV)
    with hubstats.Client(server.target, timeout=60) as client:
        summary = snapshot.load(client, models)
        assert summary["records"]["accepted"] == len(rows)
        assert summary["events"]["accepted"] == len(rows)
        assert summary["events"]["accepted_downloads"] == expected_total

        totals = client.totals()
        assert totals["total_downloads"] == expected_total == 1_368_390_199
        assert totals["models_with_downloads"] == len(rows)
        assert totals["catalogued_models"] == len(rows)
        assert totals["authors_with_downloads"] == len(expected_authors)
        assert totals["first_day"] == totals["last_day"] == dt.date(2024, 9, 20)

        # Every model's count: the full ranking holds all 9,715 models.
        top = client.top_n(10_000, by="model")
        assert dict(zip(top["id"], top["downloads"].tolist())) == expected_per_model

        share = client.modality_share()
        assert dict(zip(share["modality"], share["downloads"].tolist())) == {
            name: expected_modality.get(name, 0) for name in hubstats.MODALITY_NAMES}

        authors = client.top_n(50, by="author")
        assert authors["downloads"].tolist() == sorted(expected_authors.values(),
                                                       reverse=True)[:50]

        tasks = client.breakdown(by="task")
        expected_tasks = defaultdict(int)
        for row in rows:
            expected_tasks[row["pipeline_tag"] or "(none)"] += int(row["downloads"])
        assert dict(zip(tasks["key"], tasks["downloads"].tolist())) == expected_tasks

        sizes = client.size_distribution()
        assert sizes.attrs["known_downloads"] == 0  # the file has no parameter counts

        row = rows[1]
        stats = client.model(row["modelId"])
        assert stats["downloads_all_time"] == int(row["downloads"])
        assert stats["days"] == [(dt.date(2024, 9, 20), int(row["downloads"]))]
        assert stats["record"]["pipeline_tag"] == row["pipeline_tag"]
        first_tag = ast.literal_eval(row["tags"])[0]
        assert stats["record"]["library_name"] == first_tag == "transformers"

        # The module's own comparison agrees.
        local = snapshot.figures(models, snapshot.read_task_table(TASK_TABLE))
        assert snapshot.differences(local, snapshot.measure(client)) == []


def test_local_figures_match_the_provenance_note():
    result = snapshot.figures(snapshot.read(CSV), snapshot.read_task_table(TASK_TABLE))
    assert result["total_downloads"] == 1_368_390_199
    assert round(result["top_models"][10], 1) == 35.8
    assert round(result["top_models"][50], 1) == 59.1
    assert round(result["top_models"][100], 1) == 70.3
    assert round(result["top_authors"][10], 1) == 55.4
    assert [key for key, _, _ in result["tasks"][:3]] == ["audio-classification", "fill-mask",
                                                          "sentence-similarity"]


def test_command_line_loads_and_compares(server):
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    result = subprocess.run([sys.executable, "-m", "hubstats.snapshot", "--target",
                             server.target], cwd=PYTHON_DIR, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "service matches the file" in result.stdout
