"""Report figures drawn from hubstats queries, as pyplot-managed matplotlib Figures.

Each chart function takes either a `hubstats.Client` (it then runs the query, with `start` and
`end` as in the client) or the DataFrame the matching client method returned:

    modality_share_chart     Client.modality_share()            share of downloads per modality
    size_share_chart         Client.size_distribution()         share by model size: <200M,
                                                                <500M, <1B (cumulative), 1B+
    concentration_chart      Client.top_n(n, by=...)            share held by the top k models
                                                                or organisations
    top_organisations_chart  Client.top_n(n, by="author")       largest organisations
    breakdown_chart          Client.breakdown(by=...)           largest tasks, architectures
                                                                or libraries

modality_share_numbers, size_share_numbers, concentration_numbers and breakdown_numbers
return the values their chart draws, as a DataFrame (the top organisations chart draws the
first n rows of the top_n DataFrame as they are).

How the charts read:
* Bar charts grow with their bars: the figure is 8 inches wide and 4.5 high, or higher when
  the bars need it, and the bars' fonts shrink for long lists, so no two labels overlap. `n`
  limits the bars whether the chart runs the query or gets a DataFrame. A size chart with
  more than SIZE_COLUMNS_MAX boundaries turns its bars horizontal to grow the same way.
* Subtitles state the data's first and last day: `span=(first, last)` if given, else the
  DataFrame's attrs "first_day" and "last_day", which every client answer with downloads
  carries (Client.data_span of the range asked), whether the chart ran the query or was given
  the DataFrame. A DataFrame without them (one built by hand, say) reads "All days with
  data", or "Days with data in <the range asked>", rather than claiming days the data may not
  cover; an empty answer says where the data lies (its attrs "data_span").
* Every modality has one colour in every chart (MODALITY_COLORS), and no other chart uses
  those colours: organisations, sizes, tasks, architectures, libraries and the concentration
  curve are drawn in NEUTRAL_COLORS, so a modality's colour always means that modality.
* Labels are the DataFrame's keys, except modality names, which read as MODALITY_LABELS says
  ("nlp" -> "NLP", "unknown" -> "Unknown (no catalog record)"), the size chart's classes
  (cumulative "<200M": below the class's `upper`; "1B+": at or above the last boundary, as the
  report shows it beside them) and the breakdown's "all N other tasks" bar.
  Breakdowns keep the server's keys "(none)" (records that leave the field empty) and
  "unknown" (models without a catalog record) and explain them in a footnote.
* Shares are shown with two decimals ("92.48%"), "<0.01%" and ">99.99%" at the ends.
* The concentration chart lists the shares of the top 10, 50 and 100 in one box placed where
  it covers neither the curve nor a mark; for organisations its subtitle states the report's
  headline, the top 50's share.
* A chart with nothing to show (no downloads, no known sizes, only the modality "unknown",
  only "(none)" and "unknown" classes) says so in a note instead of drawing an empty bar.

Figures are pyplot figures (`fig.show()` works in a notebook); close them with
`matplotlib.pyplot.close(fig)` when done. The palette, labels, formats and layout helpers live
in hubstats._chart_style, shared with hubstats.trend_chart (re-exported here).

Command line: writes the five charts as PNGs at 150 dpi, and modality_trend.png
(hubstats.trend_chart) when the data span more than one period, and prints the numbers behind
them:

    python -m hubstats.charts --target HOST:PORT --out DIR [--from YYYY-MM-DD] [--to YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import matplotlib
import matplotlib.collections
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from hubstats import _chart_style as style
from hubstats import _convert as convert
from hubstats import trend_chart as trends
from hubstats._chart_style import (DPI, FIGURE_SIZE, MODALITY_COLORS,  # noqa: F401
                                   MODALITY_LABELS, NEUTRAL_COLORS, add_footnote,
                                   format_parameters, format_share)
from hubstats.client import Client
from hubstats.errors import HubstatsError

DEFAULT_MARKS = (10, 50, 100)
#: A size chart with more boundaries draws its bars horizontal.
SIZE_COLUMNS_MAX = 8
#: The report's headline: the share of the top 50 organisations.
HEADLINE_K = 50

_BREAKDOWN_NAMES = {"task": ("task", "tasks"), "architecture": ("architecture", "architectures"),
                    "library": ("library", "libraries")}
_NO_CLASS = ("(none)", "unknown")


# ---------------------------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------------------------

def _period(frame: pd.DataFrame) -> str:
    """The days a query result covers: the data's first and last day when known (see the
    module docstring), else what can be said without a wrong claim."""
    attrs = frame.attrs
    if attrs.get("first_day") and attrs.get("last_day"):
        return style.days_text(attrs["first_day"], attrs["last_day"])
    start, end = attrs.get("start"), attrs.get("end")
    if "data_span" in attrs:  # An empty answer: say where the data lies.
        return style.no_downloads_text(start, end, attrs["data_span"])
    if start is None and end is None:
        return "All days with data"
    return ("Days with data from " + style.day_text(start) if end is None else
            "Days with data up to " + style.day_text(end) if start is None else
            "Days with data in " + style.days_text(start, end))


def _fetch(source: Client | pd.DataFrame, query, span, **arguments) -> pd.DataFrame:
    """The DataFrame to draw; `span`, if given, replaces its attrs first_day/last_day (the
    client's answers with downloads carry them already)."""
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    elif isinstance(source, Client):
        frame = query(source, **arguments)
    else:
        raise TypeError(f"expected a hubstats.Client or a DataFrame, got {type(source).__name__}")
    if span is not None:
        frame.attrs["first_day"], frame.attrs["last_day"] = span
    return frame


# ---------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------

def _horizontal_bars(axes, labels: list[str], values: list[float], colors: list[str],
                     xlabel: str, font: float) -> None:
    """Bars top to bottom in the given order, each labelled with its share."""
    positions = range(len(labels))
    bars = axes.barh(positions, values, color=colors, height=0.68, zorder=2)
    axes.set_yticks(list(positions), labels)
    axes.invert_yaxis()
    axes.set_ylim(len(labels) - 0.5, -0.5)
    axes.tick_params(axis="y", length=0, pad=6, labelsize=font)
    axes.set_xlabel(xlabel)
    axes.set_xlim(0, max(values) * 1.22 if max(values) > 0 else 1)
    axes.xaxis.grid(True, color=style.GRID, zorder=0)
    axes.set_axisbelow(True)
    axes.spines["left"].set_visible(False)
    axes.bar_label(bars, labels=[format_share(v) for v in values], padding=4, fontsize=font,
                   color=style.TEXT)


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


def modality_share_chart(source: Client | pd.DataFrame, *, start=None, end=None,
                         span=None) -> Figure:
    """Horizontal bars of each modality's share of downloads (modalities without downloads are
    left out), each modality in its colour (MODALITY_COLORS). Downloads that are all of
    "unknown" modality show a note instead."""
    share = _fetch(source, Client.modality_share, span, start=start, end=end)
    numbers = modality_share_numbers(share)
    with matplotlib.rc_context(style.STYLE):
        figure, axes, font = style.new_figure(len(numbers))
        total = share.attrs.get("total_downloads", int(share["downloads"].sum()))
        style.titles(axes, "Share of downloads by modality",
                     f"{_period(share)} · {total:,} downloads")
        if numbers.empty:
            style.no_data(axes)
            return figure
        if set(numbers["modality"]) == {"unknown"}:
            style.no_data(axes, "No modality is known for these downloads (no model has a catalog "
                           "record)")
            return figure
        colors = [MODALITY_COLORS.get(name, style.MUTED) for name in numbers["modality"]]
        _horizontal_bars(axes, numbers["label"].to_list(), numbers["share_pct"].to_list(),
                         colors, "Share of downloads (%)", font)
    return figure


# ---------------------------------------------------------------------------------------------
# (b) Share by model size
# ---------------------------------------------------------------------------------------------

def size_share_numbers(sizes: pd.DataFrame) -> pd.DataFrame:
    """What the size chart draws, as shares of known-size downloads: the cumulative class below
    each boundary ("<200M": lower 0, upper the boundary), then the open-ended class above the
    last one ("1B+": lower the boundary, upper <NA>), as the report shows them:
    [label, lower, upper, share_of_known_pct] (upper "Int64"). No rows without known sizes."""
    bounded = sizes[sizes["upper"].notna()]
    above = sizes[sizes["upper"].isna()]
    labels = [f"<{format_parameters(int(upper))}" for upper in bounded["upper"]]
    labels += [f"{format_parameters(int(lower))}+" for lower in above["lower"]]
    return pd.DataFrame({
        "label": labels,
        "lower": [0] * len(bounded) + above["lower"].to_list(),
        "upper": pd.array([*bounded["upper"].to_list(), *[pd.NA] * len(above)], dtype="Int64"),
        "share_of_known_pct": bounded["cumulative_pct"].to_list()
        + above["share_of_known_pct"].to_list(),
    }).astype({"label": "object", "lower": "int64", "share_of_known_pct": "float64"})


def size_share_chart(source: Client | pd.DataFrame, *, boundaries=(200e6, 500e6, 1e9),
                     start=None, end=None, span=None) -> Figure:
    """Bars of the share of known-size downloads held by models below each boundary
    (<200M, <500M, <1B, cumulative) and by the models above the last one (1B+, in the
    "rest" colour), with the share of downloads of unknown size in a footnote. Up to
    SIZE_COLUMNS_MAX boundaries stand as columns; more lie as horizontal bars, growing the
    figure like the other bar charts."""
    sizes = _fetch(source, Client.size_distribution, span, boundaries=boundaries, start=start,
                   end=end)
    numbers = size_share_numbers(sizes)
    known, unknown_pct = sizes.attrs["known_downloads"], sizes.attrs["unknown_share_pct"]
    columns = len(numbers) - 1 <= SIZE_COLUMNS_MAX
    with matplotlib.rc_context(style.STYLE):
        figure, axes, font = style.new_figure(0 if columns or known == 0 else len(numbers))
        style.titles(axes, "Share of downloads by model size",
                     f"{_period(sizes)} · {known:,} downloads of models with a known parameter "
                     "count")
        if known == 0:
            style.no_data(axes, "No downloads of models with a known size in this period")
            return figure
        labels, shares = numbers["label"].to_list(), numbers["share_of_known_pct"].to_list()
        colors = [NEUTRAL_COLORS["bar"]] * (len(labels) - 1) + [NEUTRAL_COLORS["rest"]]
        if columns:
            _size_columns(axes, labels, shares, colors)
        else:
            _horizontal_bars(axes, labels, shares, colors, "Share of known-size downloads (%)",
                             font)
            axes.set_ylabel("Parameters")
        unknown = sizes.attrs["unknown_downloads"]
        below = (f"The bar {labels[0]} is" if len(labels) == 2 else
                 f"The bars {labels[0]} to {labels[-2]} are")
        add_footnote(figure, f"{below} cumulative (each includes the smaller models); "
                             f"{labels[-1]} holds the rest.")
        add_footnote(figure, f"Not included: {format_share(unknown_pct)} of all downloads "
                             f"({unknown:,}) are of models of unknown size.")
    return figure


def _size_columns(axes, labels: list[str], shares: list[float], colors: list[str]) -> None:
    bars = axes.bar(labels, shares, color=colors, width=0.58, zorder=2)
    axes.bar_label(bars, labels=[format_share(v) for v in shares], padding=4, fontsize=11,
                   fontweight="bold")
    axes.set_ylim(0, 112)
    axes.set_yticks(range(0, 101, 20))
    axes.yaxis.grid(True, color=style.GRID, zorder=0)
    axes.set_axisbelow(True)
    axes.set_xlabel("Parameters")
    axes.set_ylabel("Share of known-size downloads (%)")
    axes.tick_params(axis="x", length=0, labelsize=11.5)


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
                        marks: Sequence[int] = DEFAULT_MARKS, start=None, end=None,
                        span=None) -> Figure:
    """The share of all downloads held by the top k models (or organisations, by="author")
    against k on a log scale, with the values at `marks` (10, 50, 100) in one box that covers
    neither the curve nor a mark. For organisations the subtitle states the headline: the top
    50's share."""
    top = _fetch(source, Client.top_n, span, n=n, by=by, start=start, end=end).head(n)
    noun = "organisations" if top.attrs.get("by", by) == "author" else "models"
    numbers = concentration_numbers(top, marks)
    with matplotlib.rc_context(style.STYLE):
        figure, axes, _ = style.new_figure()
        total = top.attrs.get("total_downloads", 0)
        headline = numbers[numbers["k"] == HEADLINE_K] if noun == "organisations" else []
        held = (f"the top {HEADLINE_K} {noun} hold "
                f"{format_share(float(headline['cumulative_pct'].iloc[0]))} of"
                if len(headline) else f"share held by the top k {noun}, of")
        style.titles(axes, f"Concentration of downloads among {noun}",
                     f"{_period(top)} · {held} {total:,} downloads")
        if top.empty:
            style.no_data(axes)
            return figure
        ranks = top["rank"].to_numpy()
        right = max(ranks[-1], max(marks, default=1)) * 1.1
        # The step curve as explicit vertices (rank k holds its share until rank k + 1), so
        # that the placement of the box below sees the line as it is drawn.
        xs = [x for rank in ranks for x in (rank, rank)][1:] + [ranks[-1] + 1]
        ys = [y for pct in top["cumulative_pct"] for y in (pct, pct)]
        axes.plot(xs, ys, color=NEUTRAL_COLORS["line"], linewidth=2.2, zorder=3)
        axes.fill_between(xs, ys, color=NEUTRAL_COLORS["fill"], zorder=2)
        axes.set_xscale("log")
        axes.set_xlim(1, right)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_ylim(0, 105)
        axes.set_yticks(range(0, 101, 20))
        axes.grid(True, which="major", color=style.GRID, zorder=0)
        axes.set_xlabel(f"Top k {noun} (log scale)")
        axes.set_ylabel("Share of all downloads (%)")
        lines = []
        for k, pct in zip(numbers["k"], numbers["cumulative_pct"]):
            axes.vlines(k, 0, pct, colors=NEUTRAL_COLORS["line"], linestyles=(0, (3, 3)),
                        linewidth=1, zorder=3)
            axes.plot([k], [pct], marker="o", markersize=7, linestyle="none",
                      color=NEUTRAL_COLORS["mark"], markeredgecolor=NEUTRAL_COLORS["line"],
                      markeredgewidth=1.5, zorder=4)
            lines.append(f"Top {k}: {format_share(pct)}")
        if lines:  # One box for every mark: no label can cover another.
            box = axes.text(0, 0, "\n".join(lines), transform=axes.transAxes, fontsize=10,
                            fontweight="bold", color=NEUTRAL_COLORS["line"], linespacing=1.5,
                            zorder=5, bbox={"boxstyle": "round,pad=0.4", "facecolor": "white",
                                            "edgecolor": style.GRID})
            _place_clear(figure, axes, box)
    return figure


#: Where the concentration chart's box may stand, in axes fractions, in order of preference:
#: above the curve's start, under its end, then right of the axes (always clear).
_BOX_PLACES = (((0.02, 0.97), "left", "top"), ((0.98, 0.04), "right", "bottom"),
               ((1.02, 0.5), "left", "center"))


def _place_clear(figure: Figure, axes, box) -> None:
    """Moves `box` (a text in axes fractions) to the first of _BOX_PLACES where its frame
    touches none of the axes' lines (the curve, the marks' dashed lines and markers)."""
    for (x, y), ha, va in _BOX_PLACES:
        box.set_position((x, y))
        box.set_horizontalalignment(ha)
        box.set_verticalalignment(va)
        figure.draw_without_rendering()  # Lays the figure out: the frame's place is final.
        frame = box.get_bbox_patch().get_window_extent()
        if not _covers_lines(axes, frame):
            return


def _covers_lines(axes, frame) -> bool:
    """Whether the display box `frame` touches a line or a marker of `axes`."""
    for line in axes.lines:
        path = line.get_transform().transform_path(line.get_path())
        if line.get_marker() not in (None, "None", "none", ""):
            radius = line.get_markersize() * axes.figure.dpi / 72
            if any(frame.padded(radius).contains(x, y) for x, y in path.vertices):
                return True
        elif path.intersects_bbox(frame, filled=False):
            return True
    for collection in axes.collections:
        if isinstance(collection, matplotlib.collections.LineCollection):
            transform = collection.get_transform()
            if any(transform.transform_path(path).intersects_bbox(frame, filled=False)
                   for path in collection.get_paths()):
                return True
    return False


# ---------------------------------------------------------------------------------------------
# (d) Top organisations
# ---------------------------------------------------------------------------------------------

def top_organisations_chart(source: Client | pd.DataFrame, *, n: int = 15, start=None,
                            end=None, span=None) -> Figure:
    """Horizontal bars of the n organisations (authors) with the most downloads, largest
    first, each labelled with its share of all downloads; the chart grows with n."""
    top = _fetch(source, Client.top_n, span, n=n, by="author", start=start, end=end)
    shown = top.head(n)
    with matplotlib.rc_context(style.STYLE):
        figure, axes, font = style.new_figure(len(shown))
        total = top.attrs.get("total_downloads", 0)
        held = float(shown["share_pct"].sum())
        style.titles(axes, f"Top {len(shown)} organisations by downloads",
                     f"{_period(top)} · together {format_share(held)} of {total:,} downloads")
        if shown.empty:
            style.no_data(axes)
            return figure
        _horizontal_bars(axes, shown["id"].to_list(), shown["share_pct"].to_list(),
                         [NEUTRAL_COLORS["bar"]] * len(shown), "Share of all downloads (%)",
                         font)
    return figure


# ---------------------------------------------------------------------------------------------
# (e) Breakdown by task, architecture or library
# ---------------------------------------------------------------------------------------------

def breakdown_numbers(breakdown: pd.DataFrame, n: int = 12) -> pd.DataFrame:
    """The n largest keys, then one "all other ..." row for the rest when there is a rest:
    [key, downloads, share_pct]. Keys without downloads are left out."""
    if n < 1:
        raise ValueError(f"n: must be at least 1, got {n}")
    by = breakdown.attrs.get("by")
    shown = breakdown[breakdown["downloads"] > 0]
    head, rest = shown.iloc[:n], shown.iloc[n:]
    keys, downloads, shares = (head["key"].to_list(), head["downloads"].to_list(),
                               head["share_pct"].to_list())
    if not rest.empty:
        plural = _BREAKDOWN_NAMES.get(by, ("key", "keys"))[1]
        keys.append(f"all {len(rest)} other {plural}")
        downloads.append(int(rest["downloads"].sum()))
        shares.append(float(rest["share_pct"].sum()))
    return pd.DataFrame({"key": keys, "downloads": downloads, "share_pct": shares}).astype(
        {"key": "object", "downloads": "int64", "share_pct": "float64"})


def breakdown_chart(source: Client | pd.DataFrame, *, by: str = "task", n: int = 12,
                    start=None, end=None, modality=None, span=None) -> Figure:
    """Horizontal bars of the n pipeline tags (by="task"), architectures or libraries with the
    most downloads, then the rest as one bar, each labelled with its share of all downloads.
    Filtered by a modality, the bars take its colour. A breakdown whose downloads are all
    "(none)" or "unknown" shows a note instead."""
    breakdown = _fetch(source, Client.breakdown, span, by=by, start=start, end=end,
                       modality=modality)
    by = breakdown.attrs.get("by", by)
    singular, plural = _BREAKDOWN_NAMES.get(by, ("key", "keys"))
    numbers = breakdown_numbers(breakdown, n)
    informative = [key for key in numbers["key"] if key not in _NO_CLASS]
    with matplotlib.rc_context(style.STYLE):
        figure, axes, font = style.new_figure(len(numbers) if informative else 0)
        total = breakdown.attrs.get("total_downloads", int(breakdown["downloads"].sum()))
        scope = breakdown.attrs.get("modality")
        if scope:  # As the caller spelled it ("cv", "Computer-Vision"): the short name.
            scope = convert.modality_name(convert.modality_number(scope))
        scope_text = f" · {MODALITY_LABELS.get(scope, scope)} only" if scope else ""
        style.titles(axes, f"Share of downloads by {singular}",
                     f"{_period(breakdown)}{scope_text} · {total:,} downloads")
        if numbers.empty:
            style.no_data(axes)
            return figure
        if not informative:
            style.no_data(axes, f"No {singular} is known for these downloads (the catalog gives "
                           "none)")
            return figure
        colors = [MODALITY_COLORS.get(scope, NEUTRAL_COLORS["bar"]) if scope
                  else NEUTRAL_COLORS["bar"]] * len(numbers)
        if len(numbers) > n:
            colors[-1] = NEUTRAL_COLORS["rest"]  # the "all other ..." bar
        _horizontal_bars(axes, numbers["key"].to_list(), numbers["share_pct"].to_list(),
                         colors, "Share of all downloads (%)", font)
        article = "an" if singular[0] in "aeiou" else "a"
        notes = {"(none)": f"(none): catalog records without {article} {singular}",
                 "unknown": "unknown: models without a catalog record"}
        present = [notes[key] for key in _NO_CLASS if key in set(numbers["key"])]
        if present:
            add_footnote(figure, "; ".join(present) + ".")
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


def save(figures: dict[str, Figure], out: Path) -> list[Path]:
    """Writes each figure as `out`/name at DPI on white, closes it, returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, figure in figures.items():
        path = out / name
        figure.savefig(path, dpi=DPI, facecolor="white")
        plt.close(figure)
        paths.append(path)
    return paths


def write_report(client: Client, out: Path, start=None, end=None, *, organisations: int = 15,
                 concentration_n: int = 1000) -> list[Path]:
    """Writes the report's five charts as PNGs (150 dpi) into `out`, and the modality trend
    when the data span more than one period (trend_chart.choose_granularity: days under two
    weeks, weeks under two months, else months), prints the numbers behind each and returns
    the paths."""
    share = client.modality_share(start, end)
    sizes = client.size_distribution(start=start, end=end)
    top_models = client.top_n(concentration_n, by="model", start=start, end=end)
    top_orgs = client.top_n(concentration_n, by="author", start=start, end=end)
    span = client.data_span(start, end)

    total = share.attrs["total_downloads"]
    _print_table(f"Modality share ({total:,} downloads)",
                 modality_share_numbers(share)[["modality", "downloads", "share_pct"]])
    _print_table("Share of known-size downloads by model size (cumulative, then the rest)",
                 size_share_numbers(sizes)[["label", "share_of_known_pct"]],
                 f"known-size downloads: {sizes.attrs['known_downloads']:,}; unknown size: "
                 f"{sizes.attrs['unknown_downloads']:,} ({sizes.attrs['unknown_share_pct']:.2f}% "
                 "of all downloads)")
    _print_table("Share held by the top k models", concentration_numbers(top_models))
    _print_table("Share held by the top k organisations", concentration_numbers(top_orgs))
    shown = top_orgs.head(organisations)
    _print_table(f"Top {len(shown)} organisations",
                 shown[["rank", "id", "downloads", "share_pct"]],
                 f"together: {float(shown['share_pct'].sum()):.2f}% of "
                 f"{top_orgs.attrs['total_downloads']:,} downloads")

    figures = {
        "modality_share.png": modality_share_chart(share, span=span),
        "size_share.png": size_share_chart(sizes, span=span),
        "top_concentration.png": concentration_chart(top_models, span=span),
        "organisation_concentration.png": concentration_chart(top_orgs, by="author", span=span),
        "top_organisations.png": top_organisations_chart(top_orgs, n=organisations, span=span),
    }
    if span is not None:
        granularity = trends.choose_granularity(*span)
        if trends.period_count(*span, granularity) > 1:
            trend = client.trend(*span, granularity=granularity)
            numbers = trends.trend_numbers(trend)
            _print_table(f"Trend: modality share per {granularity} (%)",
                         numbers.drop(columns=["period_start", "first_day", "last_day"]))
            figures["modality_trend.png"] = trends.trend_chart(trend)
    paths = save(figures, out)
    for path in paths:
        print(f"wrote {path}")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hubstats.charts",
        description="Draw the report's five charts (and the modality trend) from a hubstats "
                    "server.")
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
