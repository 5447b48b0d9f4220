"""Report figures drawn from hubstats queries, as matplotlib Figures (Agg; no display needed).

Each chart function takes either a `hubstats.Client` (it then runs the query, with `start` and
`end` as in the client) or the DataFrame the matching client method returned:

    modality_share_chart     Client.modality_share()            share of downloads per modality
    size_share_chart         Client.size_distribution()         cumulative share by model size
    concentration_chart      Client.top_n(n, by="model")        share held by the top k models
    top_organisations_chart  Client.top_n(n, by="author")       largest organisations
    breakdown_chart          Client.breakdown(by=...)           largest tasks, architectures
                                                                or libraries

modality_share_numbers, size_share_numbers, concentration_numbers and breakdown_numbers
return the values their chart draws, as a DataFrame (the top organisations chart draws the
top_n DataFrame as it is).

Command line (writes four PNGs at 150 dpi and prints the numbers behind them):

    python -m hubstats.charts --target HOST:PORT --out DIR [--from YYYY-MM-DD] [--to YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import matplotlib
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from hubstats.client import Client
from hubstats.errors import HubstatsError

#: The report's palette, strongest first.
PALETTE = ("#ffd21e", "#371b6b", "#7b2cbf", "#9d4edd", "#c77dff")
#: Size, in inches, of every figure; at DPI it is 1200 x 675 pixels.
FIGURE_SIZE = (8.0, 4.5)
DPI = 150
DEFAULT_MARKS = (10, 50, 100)

MODALITY_LABELS = {
    "nlp": "NLP",
    "computer_vision": "Computer vision",
    "audio": "Audio",
    "multimodal": "Multimodal",
    "time_series": "Time series",
    "tabular": "Tabular",
    "reinforcement_learning": "Reinforcement learning",
    "other": "Other",
    "unknown": "Unknown (no catalog record)",
}

_TEXT = "#1f1f1f"
_MUTED = "#5f5f5f"
_GRID = "#e4e4e4"
_STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 10.5,
    "axes.titlesize": 13.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 26,
    "axes.labelsize": 10.5,
    "axes.labelcolor": _TEXT,
    "axes.edgecolor": "#8a8a8a",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": _TEXT,
    "ytick.color": _TEXT,
    "text.color": _TEXT,
}


# ---------------------------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------------------------

def format_parameters(count: int) -> str:
    """A parameter count the way the server labels classes: 200M, 1B, 1.5B, 1T."""
    for suffix, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if count >= scale:
            whole, rest = divmod(count, scale)
            if rest == 0:
                return f"{whole}{suffix}"
            return f"{whole}.{str(scale + rest)[1:].rstrip('0')}{suffix}"
    return str(count)


def _pct(value: float) -> str:
    """One decimal; a share that would round to 0.0% (or 100.0%) without being it says so."""
    if 0 < value < 0.05:
        return "<0.1%"
    if 99.95 <= value < 100:
        return ">99.9%"
    return f"{value:.1f}%"


def _day(day) -> str:
    return f"{day.day} {day:%b %Y}"


def _period(frame: pd.DataFrame) -> str:
    """The date range a query result covers, from the attrs the client sets."""
    start, end = frame.attrs.get("start"), frame.attrs.get("end")
    if start is None and end is None:
        return "All time"
    if end is None:
        return f"{_day(start)} onwards"
    if start is None:
        return f"Up to {_day(end)}"
    return f"{_day(start)} – {_day(end)}"


def _new_figure() -> tuple[Figure, "matplotlib.axes.Axes"]:
    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.get_layout_engine().set(w_pad=0.15, h_pad=0.12)
    return figure, figure.add_subplot()


def _titles(axes, title: str, subtitle: str) -> None:
    axes.set_title(title)
    axes.annotate(subtitle, xy=(0, 1), xycoords="axes fraction", xytext=(0, 8),
                  textcoords="offset points", ha="left", va="bottom", fontsize=10,
                  color=_MUTED, annotation_clip=False)


def _no_data(axes, message: str = "No downloads in this period") -> None:
    axes.text(0.5, 0.5, message, transform=axes.transAxes, ha="center", va="center",
              fontsize=12, color=_MUTED)
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)


def _horizontal_bars(axes, labels: list[str], values: list[float], colors: list[str],
                     xlabel: str) -> None:
    """Bars top to bottom in the given order, each labelled with its percentage."""
    positions = range(len(labels))
    bars = axes.barh(positions, values, color=colors, height=0.68, zorder=2)
    axes.set_yticks(list(positions), labels)
    axes.invert_yaxis()
    axes.tick_params(axis="y", length=0, pad=6)
    axes.set_xlabel(xlabel)
    limit = max(values) * 1.16 if max(values) > 0 else 1
    axes.set_xlim(0, limit)
    axes.xaxis.grid(True, color=_GRID, zorder=0)
    axes.set_axisbelow(True)
    axes.spines["left"].set_visible(False)
    axes.bar_label(bars, labels=[_pct(v) for v in values], padding=4, fontsize=10,
                   color=_TEXT)


def _fetch(source: Client | pd.DataFrame, query, **arguments) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, Client):
        return query(source, **arguments)
    raise TypeError(f"expected a hubstats.Client or a DataFrame, got {type(source).__name__}")


# ---------------------------------------------------------------------------------------------
# (a) Modality share
# ---------------------------------------------------------------------------------------------

def modality_share_numbers(share: pd.DataFrame) -> pd.DataFrame:
    """Modalities with downloads, largest first: [modality, label, downloads, share_pct]."""
    shown = share[share["downloads"] > 0].sort_values("downloads", ascending=False, kind="stable")
    return pd.DataFrame({
        "modality": shown["modality"].to_list(),
        "label": [MODALITY_LABELS.get(name, name) for name in shown["modality"]],
        "downloads": shown["downloads"].to_list(),
        "share_pct": shown["share_pct"].to_list(),
    }).astype({"downloads": "int64", "share_pct": "float64"})


def modality_share_chart(source: Client | pd.DataFrame, *, start=None, end=None) -> Figure:
    """Horizontal bars of each modality's share of downloads (modalities without downloads are
    left out), in the report's palette."""
    share = _fetch(source, Client.modality_share, start=start, end=end)
    numbers = modality_share_numbers(share)
    with matplotlib.rc_context(_STYLE):
        figure, axes = _new_figure()
        total = share.attrs.get("total_downloads", int(share["downloads"].sum()))
        _titles(axes, "Share of downloads by modality",
                f"{_period(share)} · {total:,} downloads")
        if numbers.empty:
            _no_data(axes)
            return figure
        colors = [PALETTE[min(i, len(PALETTE) - 1)] for i in range(len(numbers))]
        _horizontal_bars(axes, numbers["label"].to_list(), numbers["share_pct"].to_list(),
                         colors, "Share of downloads (%)")
    return figure


# ---------------------------------------------------------------------------------------------
# (b) Cumulative share by model size
# ---------------------------------------------------------------------------------------------

def size_share_numbers(sizes: pd.DataFrame) -> pd.DataFrame:
    """The cumulative classes below each boundary: [label ("<200M"), upper, cumulative_pct],
    as shares of known-size downloads."""
    bounded = sizes[sizes["upper"].notna()]
    return pd.DataFrame({
        "label": [f"<{format_parameters(int(upper))}" for upper in bounded["upper"]],
        "upper": bounded["upper"].astype("int64").to_list(),
        "cumulative_pct": bounded["cumulative_pct"].to_list(),
    }).astype({"upper": "int64", "cumulative_pct": "float64"})


def size_share_chart(source: Client | pd.DataFrame, *, boundaries=(200e6, 500e6, 1e9),
                     start=None, end=None) -> Figure:
    """Bars of the share of known-size downloads held by models below each boundary
    (<200M, <500M, <1B), with the share of downloads of unknown size noted on the chart."""
    sizes = _fetch(source, Client.size_distribution, boundaries=boundaries, start=start, end=end)
    numbers = size_share_numbers(sizes)
    known, unknown_pct = sizes.attrs["known_downloads"], sizes.attrs["unknown_share_pct"]
    with matplotlib.rc_context(_STYLE):
        figure, axes = _new_figure()
        _titles(axes, "Cumulative share of downloads by model size",
                f"{_period(sizes)} · {known:,} downloads of models with a known parameter count")
        if known == 0:
            _no_data(axes, "No downloads of models with a known size in this period")
            return figure
        colors = [PALETTE[(i + 1) % len(PALETTE)] for i in range(len(numbers))]
        bars = axes.bar(numbers["label"], numbers["cumulative_pct"], color=colors, width=0.58,
                        zorder=2)
        axes.bar_label(bars, labels=[_pct(v) for v in numbers["cumulative_pct"]], padding=4,
                       fontsize=11, fontweight="bold")
        axes.set_ylim(0, 112)
        axes.set_yticks(range(0, 101, 20))
        axes.yaxis.grid(True, color=_GRID, zorder=0)
        axes.set_axisbelow(True)
        axes.set_xlabel("Models with fewer parameters than")
        axes.set_ylabel("Share of known-size downloads (%)")
        axes.tick_params(axis="x", length=0, labelsize=11.5)
        unknown = sizes.attrs["unknown_downloads"]
        axes.annotate(f"Not included: {_pct(unknown_pct)} of all downloads ({unknown:,}) are "
                      "of models of unknown size.",
                      xy=(0, 0), xycoords="axes fraction", xytext=(0, -40),
                      textcoords="offset points", ha="left", va="top", fontsize=9.5,
                      color=_MUTED, fontstyle="italic", annotation_clip=False)
    return figure


# ---------------------------------------------------------------------------------------------
# (c) Top-N concentration
# ---------------------------------------------------------------------------------------------

def concentration_numbers(top: pd.DataFrame, marks: Sequence[int] = DEFAULT_MARKS) -> pd.DataFrame:
    """The share held by the top k, for each mark k that the ranking reaches: [k, downloads,
    cumulative_pct]."""
    reached = [k for k in marks if k <= len(top)]
    cumulative_downloads = top["downloads"].cumsum()
    return pd.DataFrame({
        "k": reached,
        "downloads": [int(cumulative_downloads.iloc[k - 1]) for k in reached],
        "cumulative_pct": [float(top["cumulative_pct"].iloc[k - 1]) for k in reached],
    }).astype({"k": "int64", "downloads": "int64", "cumulative_pct": "float64"})


def concentration_chart(source: Client | pd.DataFrame, *, n: int = 1000, by: str = "model",
                        marks: Sequence[int] = DEFAULT_MARKS, start=None, end=None) -> Figure:
    """The share of all downloads held by the top k models (or authors) against k on a log
    scale, with the values at `marks` (10, 50, 100) called out."""
    top = _fetch(source, Client.top_n, n=n, by=by, start=start, end=end)
    noun = "organisations" if top.attrs.get("by", by) == "author" else "models"
    numbers = concentration_numbers(top, marks)
    with matplotlib.rc_context(_STYLE):
        figure, axes = _new_figure()
        total = top.attrs.get("total_downloads", 0)
        _titles(axes, f"Concentration of downloads among {noun}",
                f"{_period(top)} · share of {total:,} downloads held by the top k {noun}")
        if top.empty:
            _no_data(axes)
            return figure
        ranks = top["rank"].to_numpy()
        axes.step(ranks, top["cumulative_pct"], where="post", color=PALETTE[1], linewidth=2.2,
                  zorder=3)
        axes.fill_between(ranks, top["cumulative_pct"], step="post", color=PALETTE[4],
                          alpha=0.25, zorder=2)
        axes.set_xscale("log")
        axes.set_xlim(1, max(ranks[-1], max(marks, default=1)) * 1.1)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_ylim(0, 105)
        axes.set_yticks(range(0, 101, 20))
        axes.grid(True, which="major", color=_GRID, zorder=0)
        axes.set_xlabel(f"Top k {noun} (log scale)")
        axes.set_ylabel("Share of all downloads (%)")
        for k, pct in zip(numbers["k"], numbers["cumulative_pct"]):
            axes.vlines(k, 0, pct, colors=PALETTE[2], linestyles=(0, (3, 3)), linewidth=1,
                        zorder=3)
            axes.plot([k], [pct], marker="o", markersize=7, color=PALETTE[0],
                      markeredgecolor=PALETTE[1], markeredgewidth=1.5, zorder=4)
            axes.annotate(f"Top {k}: {_pct(pct)}", xy=(k, pct), xytext=(-6, 9),
                          textcoords="offset points", ha="right", va="bottom", fontsize=10,
                          fontweight="bold", color=PALETTE[1],
                          bbox={"boxstyle": "round,pad=0.2", "facecolor": "white",
                                "edgecolor": "none", "alpha": 0.85})
    return figure


# ---------------------------------------------------------------------------------------------
# (d) Top organisations
# ---------------------------------------------------------------------------------------------

def top_organisations_chart(source: Client | pd.DataFrame, *, n: int = 15, start=None,
                            end=None) -> Figure:
    """Horizontal bars of the n organisations (authors) with the most downloads, largest
    first, each labelled with its share of all downloads."""
    top = _fetch(source, Client.top_n, n=n, by="author", start=start, end=end)
    with matplotlib.rc_context(_STYLE):
        figure, axes = _new_figure()
        total = top.attrs.get("total_downloads", 0)
        held = top.attrs.get("top_share_pct", float(top["share_pct"].sum()))
        _titles(axes, f"Top {len(top)} organisations by downloads",
                f"{_period(top)} · together {_pct(held)} of {total:,} downloads")
        if top.empty:
            _no_data(axes)
            return figure
        colors = [PALETTE[1] if i else PALETTE[0] for i in range(len(top))]
        _horizontal_bars(axes, top["id"].to_list(), top["share_pct"].to_list(), colors,
                         "Share of all downloads (%)")
        axes.tick_params(axis="y", labelsize=9.5 if len(top) > 12 else 10.5)
    return figure


# ---------------------------------------------------------------------------------------------
# (e) Breakdown by task, architecture or library
# ---------------------------------------------------------------------------------------------

_BREAKDOWN_NAMES = {"task": ("task", "tasks"), "architecture": ("architecture", "architectures"),
                    "library": ("library", "libraries")}


def _breakdown_label(key: str, by: str | None) -> str:
    if key == "(none)":
        return "(no pipeline tag)" if by == "task" else "(not given)"
    if key == "unknown":
        return "(no catalog record)"
    return key


def breakdown_numbers(breakdown: pd.DataFrame, n: int = 12) -> pd.DataFrame:
    """The n largest keys, then one "all other ..." row for the rest when there is a rest:
    [key, label, downloads, share_pct]. Keys without downloads are left out; the label names
    the "(none)" and "unknown" keys in words."""
    if n < 1:
        raise ValueError(f"n: must be at least 1, got {n}")
    by = breakdown.attrs.get("by")
    shown = breakdown[breakdown["downloads"] > 0]
    head, rest = shown.iloc[:n], shown.iloc[n:]
    keys, downloads, shares = (head["key"].to_list(), head["downloads"].to_list(),
                               head["share_pct"].to_list())
    labels = [_breakdown_label(key, by) for key in keys]
    if not rest.empty:
        plural = _BREAKDOWN_NAMES.get(by, ("key", "keys"))[1]
        keys.append(f"all {len(rest)} other {plural}")
        labels.append(keys[-1])
        downloads.append(int(rest["downloads"].sum()))
        shares.append(float(rest["share_pct"].sum()))
    return pd.DataFrame({"key": keys, "label": labels, "downloads": downloads,
                         "share_pct": shares}).astype(
        {"key": "object", "label": "object", "downloads": "int64", "share_pct": "float64"})


def breakdown_chart(source: Client | pd.DataFrame, *, by: str = "task", n: int = 12,
                    start=None, end=None, modality=None) -> Figure:
    """Horizontal bars of the n pipeline tags (by="task"), architectures or libraries with the
    most downloads, then the rest as one bar, each labelled with its share of all downloads."""
    breakdown = _fetch(source, Client.breakdown, by=by, start=start, end=end, modality=modality)
    by = breakdown.attrs.get("by", by)
    singular, plural = _BREAKDOWN_NAMES.get(by, ("key", "keys"))
    numbers = breakdown_numbers(breakdown, n)
    with matplotlib.rc_context(_STYLE):
        figure, axes = _new_figure()
        total = breakdown.attrs.get("total_downloads", int(breakdown["downloads"].sum()))
        scope = breakdown.attrs.get("modality")
        scope = f" · {MODALITY_LABELS.get(scope, scope)} only" if scope else ""
        _titles(axes, f"Share of downloads by {singular}",
                f"{_period(breakdown)}{scope} · {total:,} downloads")
        if numbers.empty:
            _no_data(axes)
            return figure
        colors = [PALETTE[0] if i == 0 else PALETTE[1] for i in range(len(numbers))]
        if len(numbers) > n:
            colors[-1] = PALETTE[4]  # the "all other ..." bar
        _horizontal_bars(axes, numbers["label"].to_list(), numbers["share_pct"].to_list(),
                         colors, "Share of all downloads (%)")
        axes.tick_params(axis="y", labelsize=9.5 if len(numbers) > 12 else 10.5)
    return figure


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def _print_table(title: str, frame: pd.DataFrame, note: str = "") -> None:
    print(f"== {title}")
    print(frame.to_string(index=False, float_format=lambda value: f"{value:.2f}")
          if not frame.empty else "(no data)")
    if note:
        print(note)
    print()


def write_report(client: Client, out: Path, start=None, end=None, *, organisations: int = 15,
                 concentration_n: int = 1000) -> list[Path]:
    """Writes the four charts as PNGs (150 dpi) into `out`, prints the numbers behind each
    and returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    share = client.modality_share(start, end)
    sizes = client.size_distribution(start=start, end=end)
    top_models = client.top_n(concentration_n, by="model", start=start, end=end)
    top_orgs = client.top_n(organisations, by="author", start=start, end=end)

    _print_table(f"Modality share ({_period(share)}; {share.attrs['total_downloads']:,} downloads)",
                 modality_share_numbers(share)[["modality", "downloads", "share_pct"]])
    _print_table("Cumulative share of known-size downloads",
                 size_share_numbers(sizes)[["label", "cumulative_pct"]],
                 f"known-size downloads: {sizes.attrs['known_downloads']:,}; unknown size: "
                 f"{sizes.attrs['unknown_downloads']:,} ({sizes.attrs['unknown_share_pct']:.2f}% "
                 "of all downloads)")
    _print_table("Share held by the top k models", concentration_numbers(top_models))
    _print_table(f"Top {len(top_orgs)} organisations",
                 top_orgs[["rank", "id", "downloads", "share_pct"]],
                 f"together: {top_orgs.attrs['top_share_pct']:.2f}% of "
                 f"{top_orgs.attrs['total_downloads']:,} downloads")

    figures = {
        "modality_share.png": modality_share_chart(share),
        "size_share.png": size_share_chart(sizes),
        "top_concentration.png": concentration_chart(top_models),
        "top_organisations.png": top_organisations_chart(top_orgs),
    }
    paths = []
    for name, figure in figures.items():
        path = out / name
        figure.savefig(path, dpi=DPI, facecolor="white")
        paths.append(path)
        print(f"wrote {path}")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hubstats.charts",
        description="Draw the report's four charts from a hubstats server.")
    parser.add_argument("--target", default="localhost:50051", help="server host:port")
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNG files")
    parser.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: first data)")
    parser.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: last data)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per query")
    args = parser.parse_args(argv)
    with Client(args.target, timeout=args.timeout) as client:
        try:
            write_report(client, args.out, args.start, args.end)
        except (HubstatsError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
