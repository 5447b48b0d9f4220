"""The CLI's other commands and its errors, on a redis-backed server: expected values come from
the small data set written here."""

import json
import subprocess

from hubstats._local import cli_binary

CLI = str(cli_binary())

CATALOG = [
    {"model_id": "org/enc", "pipeline_tag": "fill-mask", "num_parameters": "110M",
     "architecture": "encoder", "library_name": "transformers"},
    {"model_id": "org/dec", "pipeline_tag": "text-generation", "num_parameters": "7B",
     "architecture": "decoder", "library_name": "transformers"},
    {"model_id": "other/vit", "pipeline_tag": "image-classification", "architecture": "encoder",
     "library_name": "timm"},
]
EVENTS = [
    {"model_id": "org/enc", "timestamp": "2024-09-01T10:00:00Z", "count": 30, "revision": "main"},
    {"model_id": "org/enc", "timestamp": "2024-09-02T10:00:00Z", "count": 20, "revision": "v2"},
    {"model_id": "org/dec", "timestamp": "2024-09-02T11:00:00Z", "count": 25},
    {"model_id": "other/vit", "timestamp": 1725357600, "count": 15},  # 2024-09-03
    {"model_id": "gpt2", "timestamp": "2024-09-03", "count": 10},
]


def cli(target, *args):
    return subprocess.run([CLI, "--target", target, *args], capture_output=True, text=True,
                          timeout=60)


def cli_json(target, *args):
    result = cli(target, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def load(server, tmp_path):
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text("".join(json.dumps(record) + "\n" for record in CATALOG))
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(event) + "\n" for event in EVENTS))
    assert cli_json(server.target, "catalog", str(catalog))["accepted"] == 3
    assert cli_json(server.target, "ingest", str(events))["accepted"] == 5


def test_breakdown_totals_and_model(server, tmp_path):
    load(server, tmp_path)
    architecture = cli_json(server.target, "breakdown", "--by", "architecture")
    assert architecture["total_downloads"] == 100
    assert [(row["key"], row["downloads"]) for row in architecture["rows"]] == [
        ("encoder", 65), ("decoder", 25), ("unknown", 10)]
    library = cli_json(server.target, "breakdown", "--by", "library", "--modality", "nlp")
    assert library["total_downloads"] == 75
    assert [(row["key"], row["downloads"]) for row in library["rows"]] == [("transformers", 75)]

    totals = cli_json(server.target, "totals", "--from", "2024-09-02")
    assert totals == {"total_downloads": 70, "models_with_downloads": 4,
                      "authors_with_downloads": 3, "catalogued_models": 3,
                      "first_day": "2024-09-02", "last_day": "2024-09-03"}

    model = cli_json(server.target, "model", "org/enc", "--to", "2024-09-01")
    assert model["record"] == {"pipeline_tag": "fill-mask", "modality": "",
                               "num_parameters": 110_000_000, "architecture": "encoder",
                               "library_name": "transformers"}
    assert (model["modality"], model["size_class"]) == ("nlp", "100M-200M")
    assert (model["downloads_all_time"], model["downloads_in_range"]) == (50, 30)
    assert (model["rank_all_time"], model["rank_in_range"]) == (1, 1)
    assert model["revisions"] == [{"revision": "main", "downloads": 30}]
    assert model["days"] == [{"day": "2024-09-01", "downloads": 30}]
    # Human-readable forms print the same numbers.
    table = cli(server.target, "model", "org/enc")
    assert table.returncode == 0 and "encoder" in table.stdout and "#1" in table.stdout


def test_errors_exit_with_the_reason(server):
    bad_grid = cli(server.target, "sizes", "--boundaries", "0,300M")
    assert bad_grid.returncode == 1
    assert "INVALID_ARGUMENT" in bad_grid.stderr and "boundaries[0]" in bad_grid.stderr
    reversed_range = cli(server.target, "top", "--from", "2024-09-05", "--to", "2024-09-01")
    assert reversed_range.returncode == 1 and "range.end" in reversed_range.stderr
    missing = cli(server.target, "model", "nobody/none")
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr
    assert cli(server.target, "frobnicate").returncode == 2
    assert cli(server.target, "breakdown").returncode == 2  # --by is required
    assert cli(server.target, "top", "--boundaries", "1B").returncode == 2
    assert cli("127.0.0.1:1", "totals").returncode == 1


def test_trend_per_day_week_and_month(server, tmp_path):
    load(server, tmp_path)
    days = cli_json(server.target, "trend", "--granularity", "day")
    assert days["granularity"] == "day" and days["dimension"] == "modality"
    assert days["keys"][:3] == ["nlp", "computer_vision", "unknown"] and len(days["keys"]) == 9
    assert [p["start"] for p in days["periods"]] == ["2024-09-01", "2024-09-02", "2024-09-03"]
    assert [p["total_downloads"] for p in days["periods"]] == [30, 45, 25]
    third = {v["key"]: (v["downloads"], v["share_pct"]) for v in days["periods"][2]["values"]}
    assert third["computer_vision"] == (15, 60.0) and third["unknown"] == (10, 40.0)
    assert third["nlp"] == (0, 0.0)

    # 2024-09-01 is a Sunday: the first ISO week is partial; the top author per week.
    weeks = cli_json(server.target, "trend", "--granularity", "week", "--by", "top-authors",
                     "--n", "1")
    assert weeks["keys"] == ["top 1", "rest"]
    assert [(p["start"], p["first_day"], p["last_day"]) for p in weeks["periods"]] == [
        ("2024-08-26", "2024-09-01", "2024-09-01"), ("2024-09-02", "2024-09-02", "2024-09-03")]
    assert [[v["downloads"] for v in p["values"]] for p in weeks["periods"]] == [[30, 0], [45, 25]]

    # A range wider than the data: its months are present, with zeros.
    months = cli_json(server.target, "trend", "--from", "2024-08-01", "--to", "2024-09-30")
    assert [(p["start"], p["total_downloads"]) for p in months["periods"]] == [
        ("2024-08-01", 0), ("2024-09-01", 100)]

    table = cli(server.target, "trend", "--granularity", "week", "--by", "size")
    assert table.returncode == 0, table.stderr
    assert "Download share by size per week (2024-09-01..2024-09-03)" in table.stdout
    assert "2024-W36" in table.stdout and ">=1B" in table.stdout

    bad = cli(server.target, "trend", "--granularity", "quarter")
    assert bad.returncode == 2 and "day, week, month" in bad.stderr
    bad = cli(server.target, "trend", "--by", "country")
    assert bad.returncode == 2 and "top-models" in bad.stderr


def test_trend_of_an_empty_range_says_where_the_data_is(server, tmp_path):
    load(server, tmp_path)
    result = cli(server.target, "trend", "--from", "2023-01-01", "--to", "2023-03-31")
    assert result.returncode == 0, result.stderr
    assert "no downloads in 2023-01-01..2023-03-31; data spans 2024-09-01..2024-09-03" in result.stdout


def test_sizes_on_any_boundary(server, tmp_path):
    # org/dec has exactly 7B parameters: [7B, 13B) holds it; org/enc (110M) is below.
    load(server, tmp_path)
    sizes = cli_json(server.target, "sizes", "--boundaries", "7B,13B,70B")
    assert [(row["label"], row["downloads"]) for row in sizes["rows"]] == [
        ("<7B", 50), ("7B-13B", 25), ("13B-70B", 0), (">=70B", 0)]
    assert sizes["unknown_downloads"] == 25
    just_below = cli_json(server.target, "sizes", "--boundaries", "110000001,7000000001")
    assert [row["downloads"] for row in just_below["rows"]] == [50, 25, 0]
    trend = cli_json(server.target, "trend", "--by", "size", "--boundaries", "7B",
                     "--granularity", "day")
    assert trend["keys"] == ["<7B", ">=7B", "unknown"]
    assert [[v["downloads"] for v in p["values"]] for p in trend["periods"]] == [
        [30, 0, 0], [20, 25, 0], [0, 0, 25]]


def test_top_with_filters(server, tmp_path):
    load(server, tmp_path)
    org = cli_json(server.target, "top", "--author", "org")
    assert [(row["id"], row["downloads"]) for row in org["rows"]] == [("org/enc", 50),
                                                                      ("org/dec", 25)]
    assert org["total_downloads"] == 75
    big = cli_json(server.target, "top", "--min-size", "1B", "--by", "author")
    assert [(row["id"], row["downloads"]) for row in big["rows"]] == [("org", 25)]
    timm = cli_json(server.target, "top", "--library", "timm", "--task", "image-classification")
    assert [row["id"] for row in timm["rows"]] == ["other/vit"]
    table = cli(server.target, "top", "--author", "nobody")
    assert table.returncode == 0 and "no downloads in all time, author nobody" in table.stdout
    bad = cli(server.target, "top", "--min-size", "lots")
    assert bad.returncode == 2 and "--min-size" in bad.stderr
