"""The CLI's input rules and ingest limits end to end, on a Redis-backed server: oversized lines
(issue 9.8), CSV recovery (issue 9.9), JSON lines and CSV for events, unknown keys, modality
aliases, exit codes, failing fast on a wrong address, and empty answers (issue 15). Expected
values come from the files written here."""

import json
import pathlib
import re
import subprocess
import time

from hubstats._local import cli_binary, free_port

CLI = str(cli_binary())
# Issue 9's catalog file (a stray quote on line 13), shared with the Python client's tests.
STRAY_QUOTE_CATALOG = (pathlib.Path(__file__).resolve().parents[2] / "tests" / "input_rules"
                       / "stray_quote_catalog.csv")


def cli(target, *args, timeout=300):
    return subprocess.run([CLI, "--target", target, *args], capture_output=True, text=True,
                          timeout=timeout)


def cli_json(target, *args):
    result = cli(target, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def event(model_id, count, day="2024-09-02"):
    return json.dumps({"model_id": model_id, "count": count, "timestamp": day}) + "\n"


def test_a_65_mib_line_is_rejected_by_number_and_the_rest_counts(server, tmp_path):
    """The server refuses a request over --max-message-mb (16 MiB); the line must not take the
    file down."""
    path = tmp_path / "events.jsonl"
    with open(path, "w") as out:
        out.write(event("org/a", 3))
        out.write(event("org/b", 4))
        out.write(json.dumps({"model_id": "org/huge", "revision": "x" * (65 << 20)}) + "\n")
        out.write(event("org/c", 5))
    result = cli(server.target, "ingest", str(path), "--json", "--retry-for", "3s")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["rejected"], summary["accepted_downloads"]) == (3, 1, 12)
    assert [error["line"] for error in summary["errors"]] == [3]
    assert "more than the 4 MiB one item may hold" in summary["errors"][0]["reason"]
    assert cli_json(server.target, "totals")["total_downloads"] == 12


def test_a_thousand_lines_of_70_kib_go_in_batches_cut_by_bytes(server, tmp_path):
    """1,000 lines of 70 KiB make 70 MiB: one --batch-size batch would exceed the server's
    message limit (--max-message-mb, 16 MiB). Cut by bytes, every line gets its verdict (the
    long revisions are refused by the server, by line) and the valid lines after them count."""
    path = tmp_path / "events.jsonl"
    with open(path, "w") as out:
        for i in range(1000):
            out.write(json.dumps({"model_id": f"org/m{i % 10}",
                                  "revision": "r" * (70 << 10)}) + "\n")
        for i in range(100):
            out.write(event(f"org/ok{i % 10}", 2))
    result = cli(server.target, "ingest", str(path), "--json", "--retry-for", "3s")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["rejected"], summary["accepted_downloads"]) == (
        100, 1000, 200)
    assert [error["line"] for error in summary["errors"]] == list(range(1, 1001))
    assert all(error["reason"].startswith("revision: ") for error in summary["errors"])


def test_batch_bytes_keeps_a_rerun_exactly_once(server, tmp_path):
    path = tmp_path / "events.jsonl"
    with open(path, "w") as out:
        for i in range(400):
            out.write(json.dumps({"model_id": f"org/m{i % 13}", "count": 1 + i % 3,
                                  "revision": "v" * (50 + i % 200)}) + "\n")
    total = sum(1 + i % 3 for i in range(400))
    args = ("ingest", str(path), "--producer-id", "job-bytes", "--batch-bytes", "4KiB")
    first = cli_json(server.target, *args)
    again = cli_json(server.target, *args)
    assert (first["accepted"], first["accepted_downloads"]) == (400, total)
    assert (again["accepted"], again["duplicates"], again["duplicate_downloads"]) == (
        0, 400, total)
    assert cli_json(server.target, "totals")["total_downloads"] == total
    bad = cli(server.target, *args[:2], "--batch-bytes", "100")
    assert bad.returncode == 2 and "--batch-bytes must be a size from 1 KiB" in bad.stderr


def test_catalog_csv_with_a_stray_quote_keeps_the_other_records(server):
    """Issue 9's file: a quote inside a field on line 13 used to swallow the rest of the file."""
    path = STRAY_QUOTE_CATALOG
    summary = cli_json(server.target, "catalog", str(path))
    assert (summary["accepted"], summary["rejected"]) == (19, 1)
    assert [error["line"] for error in summary["errors"]] == [13]
    assert "a quote inside an unquoted field" in summary["errors"][0]["reason"]
    assert cli_json(server.target, "totals")["catalogued_models"] == 19


def test_events_as_csv_and_unknown_keys(server, tmp_path):
    csv = tmp_path / "events.csv"
    csv.write_text("model_id,timestamp,count,revision\n"
                   "org/a,2024-09-02T10:00:00Z,3,main\n"
                   "org/a,1725357600,4,\n"       # Unix seconds: 2024-09-03.
                   "org/b,2024-09-03,5,\n")
    summary = cli_json(server.target, "ingest", str(csv))
    assert (summary["accepted"], summary["rejected"], summary["accepted_downloads"]) == (3, 0, 12)

    misspelled = tmp_path / "events.txt"
    misspelled.write_text(event("org/c", 6) + json.dumps({"model_id": "org/c", "revison": "v1"})
                          + "\n")
    refused = cli(server.target, "ingest", str(misspelled))
    assert refused.returncode == 2 and "give --format" in refused.stderr
    summary = cli_json(server.target, "ingest", str(misspelled), "--format", "jsonl")
    assert (summary["accepted"], summary["rejected"]) == (1, 1)
    assert summary["errors"] == [{"line": 2, "reason": "revison: unknown key; expected "
                                                       "model_id, timestamp, count, revision"}]
    model = cli_json(server.target, "model", "org/a")
    assert model["days"] == [{"day": "2024-09-02", "downloads": 3},
                             {"day": "2024-09-03", "downloads": 4}]
    assert model["revisions"] == [{"revision": "(no revision)", "downloads": 4},
                                  {"revision": "main", "downloads": 3}]

    header = tmp_path / "bad.csv"
    header.write_text("model_id,downloads\norg/a,3\n")
    unreadable = cli(server.target, "ingest", str(header))
    assert unreadable.returncode == 1
    assert "line 1: unknown column 'downloads'" in unreadable.stderr


def test_a_file_whose_every_line_is_rejected_fails(server, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("model_id,count\norg/a,zero\nbad id,1\n")
    result = cli(server.target, "ingest", str(path))
    assert result.returncode == 1
    assert "0 accepted" in result.stdout and "2 rejected" in result.stdout
    assert "every line of" in result.stderr and "was rejected" in result.stderr
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text(json.dumps({"model_id": "org/a", "modality": "vision"}) + "\n")
    result = cli(server.target, "catalog", str(catalog))
    assert result.returncode == 1 and "every line of" in result.stderr


def test_ingest_says_how_many_late_events_counted_into_all_time_only(make_server, tmp_path):
    """Issue 14: a server started with --late-events all-time accepts events older than
    --max-lateness-days into all time only; the CLI's summary says how many, in text and
    JSON."""
    server = make_server(extra_args=["--max-lateness-days", "7", "--late-events", "all-time"])
    today = time.strftime("%Y-%m-%d", time.gmtime())
    path = tmp_path / "events.jsonl"
    path.write_text(event("org/a", 1, today) + event("org/a", 10) + event("org/b", 100))
    text = cli(server.target, "ingest", str(path), "--producer-id", "late-text")
    assert text.returncode == 0, text.stderr
    assert "3 accepted" in text.stdout
    assert "2 accepted events were late and counted into all time only (no day)" in text.stdout
    summary = cli_json(server.target, "ingest", str(path), "--producer-id", "late-json")
    assert (summary["accepted"], summary["accepted_all_time_only"]) == (3, 2)
    totals = cli_json(server.target, "totals")  # Fresh by default.
    assert totals["total_downloads"] == 222


def test_a_wrong_address_fails_fast_unless_told_to_wait(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(event("org/a", 1))
    target = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = cli(target, "ingest", str(path))
    assert time.monotonic() - started < 10
    assert result.returncode == 1
    assert f"no server answered at {target}" in result.stderr
    assert "give --retry-for" in result.stderr

    started = time.monotonic()
    result = cli(target, "ingest", str(path), "--retry-for", "1s")
    assert time.monotonic() - started >= 1
    assert result.returncode == 1 and "gave up after 1s without progress" in result.stderr
    delays = re.findall(r"retrying on \S+ in (\S+)\n", result.stderr)
    assert delays and all(re.fullmatch(r"\d+ms|\d+(\.\d)?s", delay) for delay in delays), delays

    catalog = tmp_path / "catalog.csv"
    catalog.write_text("model_id\norg/a\n")
    result = cli(target, "catalog", str(catalog))
    assert result.returncode == 1 and "no server answered" in result.stderr


def test_modality_aliases_and_empty_answers(server, tmp_path):
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text(json.dumps({"model_id": "org/vit", "modality": "Computer-Vision"}) + "\n")
    assert cli_json(server.target, "catalog", str(catalog))["accepted"] == 1
    events = tmp_path / "events.jsonl"
    events.write_text(event("org/vit", 7, "2024-09-01") + event("org/vit", 2, "2024-09-03"))
    assert cli_json(server.target, "ingest", str(events))["accepted"] == 2
    for spelling in ("cv", "Computer-Vision", "computer vision", "MODALITY_COMPUTER_VISION"):
        top = cli_json(server.target, "top", "--modality", spelling)
        assert top["total_downloads"] == 9, spelling
    refused = cli(server.target, "top", "--modality", "vision")
    assert refused.returncode == 2
    assert "'vision' is not a modality; expected one of nlp," in refused.stderr
    assert "(aliases: cv, rl)" in refused.stderr
    help_text = cli(server.target, "--help").stdout
    assert "(aliases: cv, rl)" in help_text
    assert "MODALITY_ prefix" in help_text and "modelId" in help_text
    assert "library_name or library" in help_text

    for command in (["modality"], ["sizes"], ["top"], ["breakdown", "--by", "task"]):
        result = cli(server.target, *command, "--from", "2024-10-01", "--to", "2024-10-31")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(
            "no downloads in 2024-10-01..2024-10-31; data spans 2024-09-01..2024-09-03"), command
    # An empty export: stdout is the (empty) export itself, so the note goes to stderr.
    export = cli(server.target, "export", "--from", "2024-10-01", "--to", "2024-10-31")
    assert export.returncode == 0, export.stderr
    assert export.stdout.count("\n") == 1  # The CSV header only.
    assert ("no downloads in 2024-10-01..2024-10-31; data spans 2024-09-01..2024-09-03"
            in export.stderr), export.stderr
    result = cli(server.target, "top", "--modality", "nlp")
    assert result.stdout.startswith("no downloads in all time, nlp only; data spans "
                                    "2024-09-01..2024-09-03")
