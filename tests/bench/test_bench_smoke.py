"""Smoke runs of the benchmark tools: they build, run briefly against a real server and Redis,
and print well-formed results. No timing is asserted (that is docs/BENCHMARKS.md's job)."""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

import hubstats
from hubstats._local import free_port

REPO = Path(__file__).resolve().parents[2]

BENCH = os.environ.get("HUBSTATS_BENCH_BIN", str(REPO / "build/client/bench/hubstats-bench"))
MICRO = os.environ.get("HUBSTATS_MICROBENCH_BIN",
                       str(REPO / "build/service/grpc/hubstats_ingest_benchmark"))


def run(*args):
    result = subprocess.run([BENCH, *args, "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_bench_tool_ingest_baseline_and_query(server, redis):
    target = server.target
    catalog = run("catalog", "--target", target, "--models", "2000")
    assert catalog["records"] == 2000
    ingest = run("ingest", "--target", target, "--models", "2000", "--duration", "2s",
                 "--batch-size", "200", "--connections", "2", "--redis", redis.url,
                 "--baseline", "direct-redis", "--baseline-prefix", "smoke-baseline",
                 "--server-pid", str(server.process.pid))
    assert ingest["failed_streams"] == 0
    assert ingest["events"] > 0 and ingest["events_per_s"] > 0
    assert ingest["ack_p99_ms"] >= ingest["ack_p50_ms"] > 0
    assert ingest["baseline_events_per_s"] > 0 and ingest["ratio"] > 0
    assert ingest["server_peak_rss_mib"] > 0 and ingest["redis_used_memory_mib"] > 0
    # A small pool: the background ingest must start within the 2 s warm-up also in a
    # sanitized build, where generating the default million events takes longer.
    query = run("query", "--target", target, "--models", "2000", "--duration", "2s",
                "--concurrency", "2", "--ingest-rate", "2000", "--batch-size", "100",
                "--pool-events", "20000")
    for query_name in ("modality_share", "size_distribution", "top50_models", "top50_authors"):
        for scope in ("", "_day", "_30d"):
            name = query_name + scope
            assert query[name]["count"] > 0 and query[name]["errors"] == 0, name
            assert query[name]["p999_ms"] >= query[name]["p50_ms"] > 0, name
    assert query["ingest_events_per_s"] > 0
    # The freshness probe ran under that ingest: acks reached the read model's answers.
    assert query["lag_probes"] > 0 and query["lag_p99_ms"] >= query["lag_p50_ms"] > 0
    trends = run("query", "--target", target, "--models", "2000", "--duration", "2s",
                 "--concurrency", "2", "--queries", "trend")
    for dimension in ("modality", "size", "top50_authors"):
        for span in ("12m_by_month", "365d_by_day"):
            name = f"trend_{dimension}_{span}"
            assert trends[name]["count"] > 0 and trends[name]["errors"] == 0, name
    sizes = run("query", "--target", target, "--models", "2000", "--duration", "2s",
                "--concurrency", "2", "--queries", "sizes")
    for query_name in ("sizes_grid", "sizes_llm", "sizes_odd12", "top50_models_7b_13b"):
        for scope in ("", "_day", "_30d"):
            name = query_name + scope
            assert sizes[name]["count"] > 0 and sizes[name]["errors"] == 0, name


def totals(target):
    with hubstats.Client(target) as client:
        return client.totals(fresh=True)["total_downloads"]


def test_bench_ingest_ends_after_events_with_every_one_counted(server):
    """--events N: the run ends on its own once N events were sent and all of them were
    acknowledged, whatever the days spread; the server counts exactly what was acknowledged."""
    target = server.target
    run("catalog", "--target", target, "--models", "500")
    for message in ("packed", "events"):
        before = totals(target)
        ingest = run("ingest", "--target", target, "--models", "500", "--events", "20000",
                     "--days", "30", "--batch-size", "500", "--connections", "3",
                     "--message", message)
        assert ingest["failed_streams"] == 0
        # Whole batches: each stream stops at the first batch past the total.
        assert 20000 <= ingest["events"] < 20000 + 3 * 500, message
        assert ingest["events"] % 500 == 0
        assert ingest["lag_probes"] > 0
        # Counts of 1..3 per event: the downloads added lie between the two bounds.
        added = totals(target) - before
        assert ingest["events"] <= added <= 3 * ingest["events"], message


def test_bench_ingest_ends_after_its_duration(server):
    started = time.monotonic()
    ingest = run("ingest", "--target", server.target, "--models", "500", "--duration", "2s",
                 "--batch-size", "100", "--connections", "2", "--no-lag-probe")
    assert 2 <= time.monotonic() - started < 60
    assert ingest["events"] > 0 and ingest["failed_streams"] == 0
    assert "lag_probes" not in ingest


def test_bench_ingest_ends_with_an_error_when_the_server_goes_away(make_server):
    """The server is killed mid-run: every stream ends, the run exits non-zero and says why,
    instead of waiting forever for acknowledgements."""
    server = make_server()
    process = subprocess.Popen([BENCH, "ingest", "--target", server.target, "--models", "500",
                                "--duration", "60s", "--batch-size", "100", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    server.kill()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "stream 0 ended" in err or "stream 1 ended" in err, err
    assert json.loads(out)["failed_streams"] >= 1


def test_bench_tool_rejects_bad_flags_before_running():
    for args, message in [
        (["query", "--modles", "5"], "unknown option --modles"),
        (["ingest", "--models", "0"], "--models must be a whole number >= 1, got '0'"),
        (["ingest", "--duration", "0s"], "--duration must be a duration of at least 1ms"),
        (["ingest", "--baseline", "redis"], "--baseline must be direct-redis"),
        (["ingest", "--baseline", "direct-redis"], "--baseline direct-redis needs --redis URL"),
        (["ingest", "--redis", "http://x"], "--redis: "),
        (["query", "--day", "2024-13-01"], "--day must be YYYY-MM-DD, got '2024-13-01'"),
        (["query", "--queries", "trends"],
         "--queries must be report, trend or sizes, got 'trends'"),
        (["qeury"], "MODE must be catalog, ingest or query, got 'qeury'"),
        (["query", "--concurrency"], "--concurrency needs a value"),
        ([], "no MODE given"),
    ]:
        result = subprocess.run([BENCH, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert result.stdout == ""


def test_bench_query_fails_when_queries_fail():
    result = subprocess.run([BENCH, "query", "--target", f"127.0.0.1:{free_port()}", "--models",
                             "100", "--duration", "1s", "--concurrency", "1", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "calls failed; the first: code 14" in result.stderr  # UNAVAILABLE
    assert json.loads(result.stdout)["modality_share"]["count"] == 0


def test_microbenchmarks_run():
    result = subprocess.run([MICRO, "--benchmark_min_time=0.01", "--benchmark_format=json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    names = {entry["name"] for entry in json.loads(result.stdout)["benchmarks"]}
    assert {"BM_DecodeBatch/0", "BM_DecodeBatch/1", "BM_ValidateEvent", "BM_DecodePrepareBatch",
            "BM_CommitWindow/64", "BM_ReadModelApply/2000"} <= names


@pytest.mark.parametrize("query_rate", ["", "2000"])
def test_ab_script_reports_a_ratio_per_turn(tmp_path, query_rate):
    """scripts/bench-ab.sh with the same server on both sides (B with other flags): a tiny data
    set, two turns of ingest, or of queries under ingest."""
    server_bin = os.environ.get("HUBSTATS_SERVER_BIN", str(REPO / "build/service/hubstats-server"))
    env = dict(os.environ, MODELS="2000", HISTORY_EVENTS="20000", TURNS="2", DURATION="1s",
               BENCH=BENCH, OUT=str(tmp_path), QUERY_RATE=query_rate, B_FLAGS="--workers 2")
    result = subprocess.run([str(REPO / "scripts/bench-ab.sh"), server_bin, server_bin],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines[0:4:2]] == ["turn 1", "turn 2"]
    # Under each turn, both sides' exclusive holds of the read model's lock, from the metrics.
    assert all(re.fullmatch(r"  write holds: A p99 [0-9.]+ ms, [0-9.]+% held; "
                            r"B p99 [0-9.]+ ms, [0-9.]+% held", line) for line in lines[1:4:2])
    assert lines[-1].startswith("median B/A ")
    runs = [json.loads(line) for line in (tmp_path / "ingest.jsonl").read_text().splitlines()]
    assert sorted((run["side"], run["turn"]) for run in runs) == [
        ("A", 1), ("A", 2), ("B", 1), ("B", 2)]
    if query_rate:
        assert "ms p99 (worst kind)" in lines[0]
        assert all(run["ingest_events_per_s"] > 0 and run["modality_share"]["count"] > 0
                   for run in runs)
    else:
        assert "events/s" in lines[0]
        assert all(run["failed_streams"] == 0 and run["events_per_s"] > 0 for run in runs)
    # The same binary on both sides: the ratio is a real quotient, near 1 but not asserted.
    assert float(lines[-1].split()[-1]) > 0


def test_ab_script_names_a_server_that_ends_during_a_turn(tmp_path):
    """A server that ends mid-run (here killed once turn 1 begins) stops the A/B with its exit
    status and log, not with a bare failure or a later scrape error."""
    server_bin = os.environ.get("HUBSTATS_SERVER_BIN", str(REPO / "build/service/hubstats-server"))
    dying = tmp_path / "dying-server"
    dying.write_text(f"""#!/bin/sh
"{server_bin}" "$@" &
server=$!
until [ -e "{tmp_path}/A-1.before.prom" ]; do sleep 0.05; done
echo "killed by the test"
kill -9 $server
wait $server
exit 9
""")
    dying.chmod(0o755)
    env = dict(os.environ, MODELS="2000", HISTORY_EVENTS="2000", TURNS="1", DURATION="2s",
               BENCH=BENCH, OUT=str(tmp_path), QUERY_RATE="2000")
    result = subprocess.run([str(REPO / "scripts/bench-ab.sh"), str(dying), server_bin],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1
    assert "server A ended (exit status 9); its log:" in result.stderr
    assert "killed by the test" in result.stderr


def test_ab_script_usage():
    result = subprocess.run([str(REPO / "scripts/bench-ab.sh"), "only-one"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "usage: scripts/bench-ab.sh SERVER_A SERVER_B" in result.stderr


def test_ab_script_names_a_server_that_does_not_start(tmp_path):
    server_bin = os.environ.get("HUBSTATS_SERVER_BIN", str(REPO / "build/service/hubstats-server"))
    env = dict(os.environ, MODELS="2000", HISTORY_EVENTS="2000", TURNS="1", DURATION="1s",
               BENCH=BENCH, OUT=str(tmp_path), B_FLAGS="--workers 0")
    result = subprocess.run([str(REPO / "scripts/bench-ab.sh"), server_bin, server_bin],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1
    assert "server B failed" in result.stderr and "--workers must be" in result.stderr
