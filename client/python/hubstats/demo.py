"""The main demo job: both data sets through real hubstats servers, the report's table, charts.

    python3 -m hubstats.demo --server-bin build/service/hubstats-server --out out/
    python3 -m hubstats.demo --hub-scale ...        # the Hub's size: 2.2M models

What it does:
 1. starts one local redis-server and two hubstats-servers on free loopback ports, one per
    data set (different --redis-prefix on the same Redis, so the data sets stay apart);
 2. loads the real snapshot (data/hf_models_top10k_2024-09.csv) into the first and checks that
    the service answers exactly what the file holds;
 3. streams the synthetic hub (hubstats.synth) into the second, with progress on stderr: its
    30-day window holds the report's figures, and with --trend-months (12 by default) a
    history before it moves the modality shares toward them (hubstats.synth_history);
 4. prints the report's table: report value, what the service answers for the synthetic hub's
    window, the difference in percentage points and OK/FAIL (within 0.5 pp), and the real
    snapshot's answer beside it; then the synthetic hub's modality share per month as the
    service's trend answers it (GetTrend), checked against the generator's own totals; then
    the snapshot's own figures;
 5. writes the charts of both data sets (hubstats.charts; the synthetic hub's over its window)
    and the trend chart of each that spans more than one period (hubstats.trend_chart) to
    OUT/synthetic/ and OUT/snapshot/, the tables to OUT/report.txt and OUT/figures.json,
    process logs to OUT/logs/;
 6. stops everything it started, also on Ctrl-C or SIGTERM.

Exit status: 0 when every figure is within tolerance, the snapshot matches its file and the
trend equals the generator's totals, 1 when not, 2 when the demo could not run (bad arguments,
a process that did not start), 130 after Ctrl-C and 143 after SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import time
from pathlib import Path

from hubstats import _local, snapshot, synth

DEFAULT_SERVER_BIN = _local.server_binary()
PREFIXES = {"snapshot": "hubstats-demo-snapshot", "synthetic": "hubstats-demo-synthetic"}


class Interrupted(Exception):
    """A stop signal arrived (SIGTERM, SIGHUP); `signum` is the signal."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_stop_signal: list[int] = []  # The stop signal that arrived, if any.


def _raise_interrupted(signum, frame):
    _stop_signal.append(signum)
    raise Interrupted(signum)


def _log(message: str) -> None:
    print(f"[demo] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------

def _snapshot_report_value(key: str, figures: dict) -> float | None:
    """The real snapshot's value of a report figure, None where the file has no data."""
    kind, _, name = key.partition(":")
    if kind == "modality":
        if name == "rest":
            return sum(figures["modality"].get(m, 0.0) for m in synth.REST_MODALITIES)
        return figures["modality"].get(name, 0.0)
    if key == "authors:top50":
        return figures["top_authors"][synth.TOP_AUTHORS_N]
    return None  # sizes and architectures: the file has neither


def report_table(rows: list[dict], snapshot_figures: dict, window: str) -> str:
    width = max(len(row["label"]) for row in rows)
    header = (f"  {'figure':<{width}}  {'report':>8}  {'synthetic':>9}  {'diff pp':>8}  "
              f"{'result':<6}  {'real snapshot':>13}")
    lines = [f"The report's figures: report vs the service's answers (shares in %; the "
             f"synthetic hub over {window})", header, "  " + "-" * (len(header) - 2)]
    for row in rows:
        real = _snapshot_report_value(row["key"], snapshot_figures)
        real_text = f"{real:.2f}" if real is not None else "n/a"
        lines.append(f"  {row['label']:<{width}}  {row['report']:>8.2f}  {row['service']:>9.2f}"
                     f"  {row['diff']:>+8.2f}  {'OK' if row['ok'] else 'FAIL':<6}  "
                     f"{real_text:>13}")
    failed = [row["label"] for row in rows if not row["ok"]]
    lines.append(f"  {len(rows) - len(failed)} of {len(rows)} figures within "
                 f"{synth.TOLERANCE_PP} pp" + (f"; FAIL: {', '.join(failed)}" if failed else ""))
    lines.append("  real snapshot: the top ~10k Hub models (2024-09-20); it has no parameter "
                 "counts or architectures (n/a).")
    return "\n".join(lines)


def snapshot_table(local: dict, service: dict, problems: list[str], head: int = 10) -> str:
    lines = [f"Real snapshot (top ~10k Hub models, 30-day downloads at 2024-09-20): "
             f"{service['total_downloads']:,} downloads, {service['models']:,} models, "
             f"{service['authors']:,} authors",
             f"  {'figure':<38}  {'service %':>9}  {'file %':>9}"]

    def line(label: str, value: float, expected: float) -> None:
        lines.append(f"  {label:<38}  {value:>9.2f}  {expected:>9.2f}")

    for name, pct in sorted(service["modality"].items(), key=lambda item: -item[1]):
        line(f"modality: {name}", pct, local["modality"].get(name, 0.0))
    for n in snapshot.TOP_MODEL_MARKS:
        line(f"top-{n} models", service["top_models"][n], local["top_models"][n])
    for n in snapshot.TOP_AUTHOR_MARKS:
        line(f"top-{n} organisations", service["top_authors"][n], local["top_authors"][n])
    local_tasks = {key: pct for key, _, pct in local["tasks"]}
    for key, _, pct in service["tasks"][:head]:
        line(f"task: {key}", pct, local_tasks.get(key, 0.0))
    lines.append("  service equals the file (downloads, models, authors, every share)"
                 if not problems else "  MISMATCH: " + "; ".join(problems))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------

def trend_table(served: dict, problems: list[str]) -> str:
    """The synthetic hub's modality share per month as the service answers it, and whether it
    equals the generator's own totals."""
    return "\n".join([
        synth.format_trend(served, title="Trend: the synthetic hub's modality share per month "
                                         "(GetTrend, %)"),
        "  the service's trend equals the generator's totals, month by month" if not problems
        else "  MISMATCH: " + "; ".join(problems[:5])])


def write_charts(client, out: Path, caption: str, start=None, end=None) -> list[Path]:
    """The report's charts of one data set over start..end (hubstats.charts) and its task
    breakdown, and the modality trend of all its days when they span more than one period
    (hubstats.trend_chart), captioned, as PNGs. A data set without parameter counts (the real
    snapshot) gets no size chart: it would be empty."""
    from hubstats import charts, trend_chart

    span = client.data_span(start, end)
    sizes = client.size_distribution(start=start, end=end)
    figures = {"modality_share.png": charts.modality_share_chart(
        client.modality_share(start, end), span=span)}
    if sizes.attrs["known_downloads"] > 0:
        figures["size_share.png"] = charts.size_share_chart(sizes, span=span)
    else:
        _log(f"{out.name}: no model has a known parameter count, so no size chart")
    authors = client.top_n(1000, by="author", start=start, end=end)
    figures.update({
        "top_concentration.png": charts.concentration_chart(
            client.top_n(1000, by="model", start=start, end=end), span=span),
        "organisation_concentration.png": charts.concentration_chart(authors, by="author",
                                                                     span=span),
        "top_organisations.png": charts.top_organisations_chart(authors, n=15, span=span),
        "task_share.png": charts.breakdown_chart(client.breakdown(by="task", start=start,
                                                                  end=end), span=span),
    })
    every_day = client.data_span()
    granularity = trend_chart.choose_granularity(*every_day)
    if trend_chart.period_count(*every_day, granularity) > 1:
        figures["modality_trend.png"] = trend_chart.trend_chart(
            client.trend(granularity=granularity))
    for figure in figures.values():
        charts.add_footnote(figure, caption)
    return charts.save(figures, out)


# ---------------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------------

def run(args) -> int:
    from hubstats import Client

    started = time.monotonic()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    models = args.models or (synth.HUB_MODELS if args.hub_scale else synth.DEFAULT_MODELS)
    events = args.events or (synth.HUB_EVENTS if args.hub_scale else synth.DEFAULT_EVENTS)
    hub = synth.SyntheticHub(args.seed, models, events, trend_months=args.trend_months,
                             history_events=args.history_events)
    _log(f"synthetic hub: seed {hub.seed}, {hub.models:,} models, {hub.event_count:,} events, "
         f"{hub.total_downloads:,} downloads ({hub.first_day}..{hub.end_day}; the report's "
         f"window {hub.start_day}..{hub.end_day})")
    real = snapshot.read(args.snapshot)
    local = snapshot.figures(real, snapshot.read_task_table(args.task_table))
    timeout = 600.0 if hub.models > 500_000 else 60.0

    with _local.LocalStack(out / "logs") as stack:
        redis = stack.start_redis(args.redis_bin)
        _log(f"started redis-server pid {redis.pid} on {redis.url}")
        servers = {}
        for name, prefix in PREFIXES.items():
            server = stack.start_server(redis.url, prefix, server_bin=args.server_bin)
            servers[name] = server
            _log(f"started hubstats-server pid {server.pid} on {server.target} "
                 f"(prefix {prefix}: {name})")

        with Client(servers["snapshot"].target, timeout=timeout) as client:
            t = time.monotonic()
            snapshot.load(client, real, batch_size=args.batch_size)
            service_real = snapshot.measure(client)
            problems = snapshot.differences(local, service_real)
            _log(f"snapshot: {len(real):,} models loaded and queried in "
                 f"{time.monotonic() - t:.1f}s")
            real_charts = (write_charts(client, out / "snapshot",
                                        "Real snapshot: top ~10k Hub models, 2024-09-20")
                           if args.charts else [])

        with Client(servers["synthetic"].target, timeout=timeout) as client:
            t = time.monotonic()
            synth.load(client, hub, batch_size=args.batch_size)
            measured = synth.measure(client, hub.start_day, hub.end_day)
            rows = synth.compare(measured)
            served = synth.served_trend(client, "month")
            trend_problems = synth.trend_differences(hub.period_totals("month"), served)
            _log(f"synthetic: loaded and queried in {time.monotonic() - t:.1f}s")
            synthetic_charts = (write_charts(client, out / "synthetic",
                                             f"Synthetic hub: seed {hub.seed}, "
                                             f"{hub.models:,} models", hub.start_day,
                                             hub.end_day)
                                if args.charts else [])

    window = f"its last {hub.days} days, {hub.start_day}..{hub.end_day}"
    report = "\n\n".join([report_table(rows, service_real, window),
                          trend_table(served, trend_problems),
                          snapshot_table(local, service_real, problems)])
    print(report, flush=True)
    (out / "report.txt").write_text(report + "\n")
    (out / "figures.json").write_text(json.dumps({
        "tolerance_pp": synth.TOLERANCE_PP,
        "synthetic": {"seed": hub.seed, "models": hub.models, "events": hub.event_count,
                      "downloads": hub.total_downloads, "window": [str(hub.start_day),
                                                                   str(hub.end_day)],
                      "rows": rows,
                      "trend": {"granularity": "month",
                                "downloads": [{"period": str(period), "modality": modality,
                                               "downloads": downloads}
                                              for (period, modality), downloads
                                              in sorted(served.items())],
                                "mismatches": trend_problems}},
        "snapshot": {"file": str(args.snapshot), "service": _jsonable(service_real),
                     "file_figures": _jsonable(local), "mismatches": problems},
    }, indent=2) + "\n")
    for path in [*real_charts, *synthetic_charts]:
        _log(f"wrote {path}")
    ok = all(row["ok"] for row in rows) and not problems and not trend_problems
    _log(f"{'all figures within tolerance' if ok else 'SOME FIGURES FAILED'}; "
         f"done in {time.monotonic() - started:.1f}s, every process stopped")
    return 0 if ok else 1


def _jsonable(figures: dict) -> dict:
    return {key: ({str(k): v for k, v in value.items()} if isinstance(value, dict) else value)
            for key, value in figures.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m hubstats.demo",
        description="Run the hubstats demo: load the real snapshot and a synthetic hub into "
                    "local servers, print the report's table and write the charts.")
    parser.add_argument("--server-bin", type=Path, default=DEFAULT_SERVER_BIN,
                        help=f"hubstats-server binary (default {DEFAULT_SERVER_BIN})")
    parser.add_argument("--redis-bin", default="redis-server", help="redis-server binary")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="output folder for charts, report and logs (default out/)")
    parser.add_argument("--seed", type=int, default=synth.DEFAULT_SEED)
    parser.add_argument("--models", type=int, help=f"synthetic models (default "
                        f"{synth.DEFAULT_MODELS:,}; --hub-scale {synth.HUB_MODELS:,})")
    parser.add_argument("--events", type=int, help=f"synthetic event lines (default "
                        f"{synth.DEFAULT_EVENTS:,}; --hub-scale {synth.HUB_EVENTS:,})")
    parser.add_argument("--hub-scale", action="store_true",
                        help="generate the Hub's size (2.2M models); takes several minutes")
    parser.add_argument("--trend-months", type=int, default=12,
                        help="calendar months the synthetic hub spans, its history moving the "
                             "modality shares toward the report's (default 12; 0: the 30-day "
                             "window only)")
    parser.add_argument("--history-events", type=int,
                        help="event lines of the history (default: synthetic events / 32, "
                             "at least 1,000)")
    parser.add_argument("--snapshot", type=Path, default=snapshot.DEFAULT_CSV,
                        help="real snapshot CSV")
    parser.add_argument("--task-table", type=Path, default=snapshot.DEFAULT_TASK_TABLE,
                        help="the server's pipeline_tag -> modality table (for local checks)")
    parser.add_argument("--batch-size", type=int, default=10_000, help="items per request")
    parser.add_argument("--no-charts", dest="charts", action="store_false",
                        help="skip the PNG charts")
    args = parser.parse_args(argv)
    if not args.server_bin.exists():
        parser.error(f"--server-bin {args.server_bin} does not exist (build the server first)")
    if not shutil.which(args.redis_bin) and not Path(args.redis_bin).exists():
        parser.error(f"--redis-bin {args.redis_bin} not found")
    if not args.snapshot.exists():
        parser.error(f"--snapshot {args.snapshot} does not exist")

    from hubstats import HubstatsError

    previous = {signum: signal.signal(signum, _raise_interrupted)
                for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return run(args)
    except KeyboardInterrupt:
        _log("interrupted (Ctrl-C); every process stopped")
        return 130
    except Interrupted as stop:
        _log(f"interrupted ({stop}); every process stopped")
        return 128 + stop.signum
    except (HubstatsError, ValueError, RuntimeError, OSError) as error:
        if _stop_signal:
            # The signal's exception surfaced inside a library that wrapped it (gRPC turns an
            # exception raised while it serialises a request into INTERNAL): still a stop.
            name = signal.Signals(_stop_signal[0]).name
            _log(f"interrupted ({name}); every process stopped")
            return 128 + _stop_signal[0]
        _log(f"error: {error}")
        return 2
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
