"""The CLI's other commands and its errors, on a redis-backed server: expected values come from
the small data set written here."""

import csv
import io
import json
import subprocess

import pytest

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


# The day of each event in EVENTS, and what the catalog makes of each model (its modality as
# the server resolves the pipeline tag; org/dec's 7B is exactly on a 7B boundary).
DAYS = ["2024-09-01", "2024-09-02", "2024-09-02", "2024-09-03", "2024-09-03"]
MODALITY = {"org/enc": "nlp", "org/dec": "nlp", "other/vit": "computer_vision",
            "gpt2": "unknown"}


def record_of(model_id):
    return next((record for record in CATALOG if record["model_id"] == model_id), {})


def recount(key, start=None):
    """Downloads per key(model_id) from EVENTS on or after `start`, zeros left out."""
    counts = {}
    for event, day in zip(EVENTS, DAYS):
        if start is None or day >= start:
            k = key(event["model_id"])
            counts[k] = counts.get(k, 0) + event["count"]
    return counts


def test_crosstab_cells_are_a_recount(server, tmp_path):
    load(server, tmp_path)
    table = cli_json(server.target, "crosstab", "--rows", "architecture", "--columns", "library")
    expected = recount(lambda m: (record_of(m).get("architecture", "unknown"),
                                  record_of(m).get("library_name", "unknown")))
    cells = {(cell["row"], cell["column"]): cell["downloads"] for cell in table["cells"]}
    assert len(cells) == len(table["rows"]) * len(table["columns"])  # Every pair, zeros too.
    assert {pair: n for pair, n in cells.items() if n} == expected
    # Each dimension's totals are the one-dimension answer.
    for name, keys in (("architecture", table["rows"]), ("library", table["columns"])):
        breakdown = cli_json(server.target, "breakdown", "--by", name)
        assert [(k["key"], k["downloads"]) for k in keys] == [
            (row["key"], row["downloads"]) for row in breakdown["rows"]]
    rows = {row["key"]: row["downloads"] for row in table["rows"]}
    for cell in table["cells"]:
        assert cell["row_share_pct"] == pytest.approx(100 * cell["downloads"] / rows[cell["row"]])
        assert cell["share_pct"] == pytest.approx(100 * cell["downloads"] / 100)

    # Size classes on any boundary, by modality, over a range.
    sizes = cli_json(server.target, "crosstab", "--rows", "size", "--columns", "modality",
                     "--boundaries", "7B", "--from", "2024-09-02")
    assert sizes["boundaries"] == [7_000_000_000]
    assert [row["key"] for row in sizes["rows"]] == ["<7B", ">=7B", "unknown"]

    def size_class(model_id):
        parameters = record_of(model_id).get("num_parameters")
        return "unknown" if parameters is None else "<7B" if parameters == "110M" else ">=7B"

    expected = recount(lambda m: (size_class(m), MODALITY[m]), start="2024-09-02")
    assert {(c["row"], c["column"]): c["downloads"] for c in sizes["cells"]
            if c["downloads"]} == expected
    one_dimension = cli_json(server.target, "sizes", "--boundaries", "7B", "--from", "2024-09-02")
    assert [row["downloads"] for row in sizes["rows"]] == [
        *(row["downloads"] for row in one_dimension["rows"]), one_dimension["unknown_downloads"]]

    text = cli(server.target, "crosstab", "--rows", "architecture", "--columns", "modality")
    assert text.returncode == 0, text.stderr
    assert "Downloads by architecture and modality (all time)" in text.stdout
    encoder = next(line for line in text.stdout.splitlines() if line.startswith("encoder"))
    assert encoder.split()[1:5] == ["65", "65.00%", "76.92%", "23.08%"]  # nlp 50, cv 15 of 65


def test_crosstab_errors(server):
    same = cli(server.target, "crosstab", "--rows", "task", "--columns", "task")
    assert same.returncode == 2 and "must differ" in same.stderr
    missing = cli(server.target, "crosstab", "--rows", "task")
    assert missing.returncode == 2 and "--columns" in missing.stderr
    unknown = cli(server.target, "crosstab", "--rows", "country", "--columns", "task")
    assert unknown.returncode == 2 and "got 'country'" in unknown.stderr
    # Boundaries without a size dimension: the server names the field.
    stray = cli(server.target, "crosstab", "--rows", "task", "--columns", "library",
                "--boundaries", "7B")
    assert stray.returncode == 1
    assert "INVALID_ARGUMENT" in stray.stderr and "boundaries" in stray.stderr


def ranked(counts):
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def test_export_streams_every_model_in_rank_order(server, tmp_path):
    load(server, tmp_path)
    # One model per streamed message: the CLI joins the chunks.
    result = cli(server.target, "export", "--chunk-size", "1")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = ranked(recount(lambda m: m))
    assert [(row["model_id"], int(row["downloads"])) for row in rows] == expected
    assert [int(row["rank"]) for row in rows] == list(range(1, len(expected) + 1))
    total = sum(n for _, n in expected)
    for row in rows:
        assert float(row["share_pct"]) == pytest.approx(100 * int(row["downloads"]) / total)
        assert row["modality"] == MODALITY[row["model_id"]]
        assert row["catalogued"] == ("true" if record_of(row["model_id"]) else "false")
    enc = next(row for row in rows if row["model_id"] == "org/enc")
    assert (enc["author"], enc["num_parameters"], enc["size_class"], enc["architecture"],
            enc["task"], enc["library"]) == ("org", "110000000", "100M-200M", "encoder",
                                             "fill-mask", "transformers")
    assert next(row for row in rows if row["model_id"] == "other/vit")["num_parameters"] == ""

    # JSON lines to a file, over a range and a filter; nothing else is left in the folder.
    out = tmp_path / "org.jsonl"
    before = set(tmp_path.iterdir())
    result = cli(server.target, "export", "--from", "2024-09-02", "--author", "org", "--out",
                 str(out))
    assert result.returncode == 0, result.stderr
    assert "exported 2 models (45 downloads, 2024-09-02..latest, author org)" in result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    expected = ranked({m: n for m, n in recount(lambda m: m, start="2024-09-02").items()
                       if m.startswith("org/")})
    assert [(line["model_id"], line["downloads"]) for line in lines] == expected
    enc = next(line for line in lines if line["model_id"] == "org/enc")
    assert enc["num_parameters"] == 110_000_000 and enc["catalogued"] is True
    assert set(tmp_path.iterdir()) == before | {out}

    # The format names and extensions of the input files, in any case: what ingest reads,
    # export writes.
    upper = tmp_path / "ORG.NDJSON"
    assert cli(server.target, "export", "--author", "org", "--out", str(upper)).returncode == 0
    assert json.loads(upper.read_text().splitlines()[0])["model_id"].startswith("org/")
    named = cli(server.target, "export", "--author", "org", "--format", "JSON")
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout.splitlines()[0])["model_id"].startswith("org/")
    assert cli(server.target, "export", "--out", str(tmp_path / "org.txt"), "--author", "org") \
        .returncode == 0
    assert (tmp_path / "org.txt").read_text().startswith("rank,model_id,")  # No known extension.

    empty = cli(server.target, "export", "--from", "2023-01-01", "--to", "2023-01-31")
    assert empty.returncode == 0 and empty.stdout.splitlines() == [
        "rank,model_id,author,downloads,share_pct,modality,task,architecture,library,"
        "num_parameters,size_class,catalogued"]


def test_export_errors_leave_no_file(server, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "models.csv"
    too_big = cli(server.target, "export", "--chunk-size", "20000", "--out", str(out))
    assert too_big.returncode == 1
    assert "INVALID_ARGUMENT" in too_big.stderr and "chunk_size" in too_big.stderr
    unreachable = cli("127.0.0.1:1", "export", "--out", str(out))
    assert unreachable.returncode == 1
    assert list(folder.iterdir()) == []
    bad_format = cli(server.target, "export", "--format", "xml")
    assert bad_format.returncode == 2
    assert "--format must be jsonl or csv, got 'xml'" in bad_format.stderr
    bad_size = cli(server.target, "export", "--min-size", "lots")
    assert bad_size.returncode == 2 and "--min-size" in bad_size.stderr
    stray = cli(server.target, "export", "--n", "5")
    assert stray.returncode == 2 and "--n does not apply to 'export'" in stray.stderr
