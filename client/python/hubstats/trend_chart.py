"""The trend chart: how shares move per day, ISO week or month (Client.trend).

    trend_chart(client or Client.trend() DataFrame, *, kind="area" | "lines", top=8, ...)
    trend_numbers(frame, top=8)     the shares the chart draws, one row per period
    period_label(start, granularity)    "Sep 2024", "2024-W36", "2024-09-20"
    choose_granularity(first, last)     "day" under 2 weeks, "week" under 2 months, else "month"
    period_count(first, last, granularity)

How it reads (like the other charts, hubstats.charts, with their palette from
hubstats._chart_style):
* kind="area" (default) stacks each key's share of the period's downloads to 100%, the
  largest key at the bottom; kind="lines" draws one line per key on a shared share axis.
* Modalities take their fixed colours (MODALITY_COLORS); every other dimension is drawn in
  neutral shades, dark to light in key order, so no colour reads as a modality.
* The legend, right of the axes and in the order of the bands, gives each key's share in
  the first and in the last period with downloads ("Audio: 9.60% → 15.10%").
* Periods are labelled as a reader names them: "Sep 2024" (months), "2024-W36" (ISO weeks,
  ISO year), "2024-09-20" (days); long series label fewer periods on calendar steps
  (every 2nd, 3rd, 6th month; every 4th, 13th ISO week; Mondays, 1sts of months, ...), the
  densest whose labels do not overlap (LABEL_CHOICES).
* The subtitle states the first and last day the periods cover; footnotes name a partial
  first or last period and periods without downloads (drawn at zero).
* Breakdowns (task, architecture, library) show their `top` largest keys and the rest as one
  band "all N other tasks"; modality, size and concentration keys are all shown.
* Nothing to show (no downloads in the range): a note, as in the other charts.
"""

from __future__ import annotations

import datetime as dt
import math

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from hubstats import _chart_style as style
from hubstats import _convert as convert
from hubstats.client import Client

#: Keys a breakdown trend shows before folding the rest into one band.
DEFAULT_TOP = 8
_PERIOD_NAMES = {"day": ("day", "days"), "week": ("week", "weeks"), "month": ("month", "months")}
_BREAKDOWN_PLURALS = {"task": "tasks", "architecture": "architectures", "library": "libraries"}
_KEY_NOTES = {"(none)": "(none): catalog records that leave the field empty",
              "unknown": "unknown: models without a catalog record"}


# ---------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------

def period_label(start: dt.date, granularity: str) -> str:
    """How a period starting on `start` reads: "Sep 2024", "2024-W36" or "2024-09-20"."""
    if granularity == "month":
        return f"{start:%b %Y}"
    if granularity == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return start.isoformat()


def choose_granularity(first: dt.date, last: dt.date) -> str:
    """The granularity a chart of first..last reads best in: "day" for less than two weeks,
    "week" for less than about two months (61 days), else "month"."""
    days = (last - first).days + 1
    return "day" if days < 14 else "week" if days < 61 else "month"


def period_count(first: dt.date, last: dt.date, granularity: str) -> int:
    """How many days, ISO weeks or calendar months first..last touches."""
    if granularity == "day":
        return (last - first).days + 1
    if granularity == "week":
        mondays = [day - dt.timedelta(days=day.weekday()) for day in (first, last)]
        return (mondays[1] - mondays[0]).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------

def _key_label(key: str, dimension: str) -> str:
    return style.MODALITY_LABELS.get(key, key) if dimension == "modality" else key


def trend_numbers(frame: pd.DataFrame, top: int = DEFAULT_TOP) -> pd.DataFrame:
    """The shares the chart draws, one row per period: [period (its label), period_start,
    first_day, last_day, downloads, then one share column per key shown, named by the key].
    Keys without downloads in the whole range are left out; a breakdown's keys past the `top`
    largest are summed into one column "all N other tasks" (libraries, architectures)."""
    if top < 1:
        raise ValueError(f"top: must be at least 1, got {top}")
    dimension = frame.attrs.get("dimension", "modality")
    granularity = frame.attrs.get("granularity", "month")
    keys = list(frame.attrs.get("keys") or dict.fromkeys(frame["key"]))
    by_key = frame.groupby("key", sort=False)["downloads"].sum()
    shown = [key for key in keys if by_key.get(key, 0) > 0]
    folded = []
    if dimension in _BREAKDOWN_PLURALS and len(shown) > top:
        shown, folded = shown[:top], shown[top:]
    periods = frame.drop_duplicates("period_start")[["period_start", "first_day", "last_day"]]
    totals = frame.groupby("period_start", sort=False)["downloads"].sum()
    shares = frame.pivot(index="period_start", columns="key", values="share_pct")
    table = pd.DataFrame({
        "period": [period_label(day, granularity) for day in periods["period_start"]],
        "period_start": periods["period_start"].to_list(),
        "first_day": periods["first_day"].to_list(),
        "last_day": periods["last_day"].to_list(),
        "downloads": [int(totals[day]) for day in periods["period_start"]],
    })
    for key in shown:
        table[key] = shares.loc[periods["period_start"], key].to_list()
    if folded:
        name = f"all {len(folded)} other {_BREAKDOWN_PLURALS[dimension]}"
        table[name] = shares.loc[periods["period_start"], folded].sum(axis=1).to_list()
    return table.astype({"downloads": "int64"})


def _colors(columns: list[str], dimension: str) -> list[str]:
    if dimension == "modality":
        return [style.MODALITY_COLORS[column] for column in columns]
    if dimension in ("top-models", "top-authors"):
        return [style.NEUTRAL_COLORS["bar"] if column.startswith("top ")
                else style.NEUTRAL_COLORS["fill"] for column in columns]
    # Every key its shade, in key order; a breakdown's folded rest the lightest colour.
    named = [column for column in columns if not column.startswith("all ")]
    shades = dict(zip(named, style.neutral_shades(len(named))))
    return [shades.get(column, style.NEUTRAL_COLORS["fill"]) for column in columns]


# ---------------------------------------------------------------------------------------------
# The chart
# ---------------------------------------------------------------------------------------------

def _title(frame: pd.DataFrame) -> str:
    dimension = frame.attrs.get("dimension", "modality")
    granularity = frame.attrs.get("granularity", "month")
    per = _PERIOD_NAMES[granularity][0]
    if dimension in ("top-models", "top-authors"):
        noun = "models" if dimension == "top-models" else "organisations"
        return f"Share of downloads held by the top {frame.attrs.get('n', 50)} {noun}, per {per}"
    noun = {"size": "model size"}.get(dimension, dimension)
    return f"Share of downloads by {noun}, per {per}"


def _subtitle(frame: pd.DataFrame, numbers: pd.DataFrame) -> str:
    attrs = frame.attrs
    scope = attrs.get("modality")
    if scope:  # As the caller spelled it ("cv", "Computer-Vision"): the short name.
        scope = convert.modality_name(convert.modality_number(scope))
    scope_text = f" · {style.MODALITY_LABELS.get(scope, scope)} only" if scope else ""
    if numbers.empty:
        return style.no_downloads_text(attrs.get("start"), attrs.get("end"),
                                       attrs.get("data_span")) + scope_text
    count = len(numbers)
    names = _PERIOD_NAMES[attrs.get("granularity", "month")]
    return (f"{style.days_text(numbers['first_day'].iloc[0], numbers['last_day'].iloc[-1])} · "
            f"{count} {names[0] if count == 1 else names[1]}{scope_text} · "
            f"{int(numbers['downloads'].sum()):,} downloads")


def _footnotes(figure: Figure, frame: pd.DataFrame, numbers: pd.DataFrame) -> None:
    granularity = frame.attrs.get("granularity", "month")
    name = _PERIOD_NAMES[granularity][0]
    if granularity != "day":
        partial = [row for row in (numbers.iloc[0], numbers.iloc[-1])
                   if _full_period(row.period_start, granularity) != (row.first_day,
                                                                      row.last_day)]
        partial = list({row.period: row for row in partial}.values())
        if partial:
            style.add_footnote(figure, "Partial " + name + ("s" if len(partial) > 1 else "")
                               + ": " + "; ".join(f"{row.period} ("
                                                  f"{style.days_text(row.first_day, row.last_day)})"
                                                  for row in partial) + ".")
    empty = int((numbers["downloads"] == 0).sum())
    if empty:
        plural = _PERIOD_NAMES[granularity][1]
        style.add_footnote(figure, f"No downloads in {empty} of {len(numbers)} {plural} "
                                   "(drawn at zero).")
    notes = [_KEY_NOTES[key] for key in _KEY_NOTES
             if key in numbers.columns and frame.attrs.get("dimension") != "modality"]
    if notes:
        style.add_footnote(figure, "; ".join(notes) + ".")


def _full_period(start: dt.date, granularity: str) -> tuple[dt.date, dt.date]:
    if granularity == "week":
        return start, start + dt.timedelta(days=6)
    following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


#: Longer keys (some pipeline tags) are shortened in the legend, so the axes keep their room.
LEGEND_KEY_MAX = 30


def _legend_labels(numbers: pd.DataFrame, columns: list[str], dimension: str) -> list[str]:
    """"<key>: <share in the first period with downloads> → <in the last>"."""
    with_data = numbers[numbers["downloads"] > 0]
    labels = []
    for column in columns:
        name = _key_label(column, dimension)
        name = name if len(name) <= LEGEND_KEY_MAX else name[:LEGEND_KEY_MAX - 1] + "…"
        first, last = (style.format_share(float(with_data[column].iloc[i])) for i in (0, -1))
        labels.append(f"{name}: {first}" if len(with_data) < 2 else f"{name}: {first} → {last}")
    return labels


def _month_starts(every: int):
    return lambda day, _: day.day == 1 and (day.month - 1) % every == 0


def _iso_weeks(every: int):
    return lambda day, _: (day.isocalendar()[1] - 1) % every == 0


#: Which periods a series labels, densest first, as calendar steps: the chart takes the first
#: whose labels fit side by side. (day, index) -> labelled?
LABEL_CHOICES = {
    "day": (lambda day, i: True, lambda day, i: i % 2 == 0, lambda day, _: day.weekday() == 0,
            lambda day, _: day.weekday() == 0 and day.isocalendar()[1] % 2 == 1,
            _month_starts(1), _month_starts(2), _month_starts(3), _month_starts(6),
            _month_starts(12)),
    "week": (lambda day, i: True, lambda day, i: i % 2 == 0, _iso_weeks(4), _iso_weeks(13),
             _iso_weeks(26), _iso_weeks(52)),
    "month": (lambda day, i: True, _month_starts(2), _month_starts(3), _month_starts(6),
              _month_starts(12)),
}


def _label_periods(figure: Figure, axes, numbers: pd.DataFrame, granularity: str) -> None:
    """Labels the periods of the first of LABEL_CHOICES whose labels fit side by side, as
    measured when drawn (else evenly spaced ones); every period gets a minor tick while
    there are few enough to tell apart."""
    labels, starts = numbers["period"].to_list(), numbers["period_start"].to_list()
    positions = list(range(len(labels)))
    axes.set_xticks(positions, labels)
    figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()
    widest = max(label.get_window_extent(renderer).width for label in axes.get_xticklabels())
    room = axes.get_window_extent(renderer).width + widest  # The end labels may overhang.
    fits = max(1, int(room // (widest * 1.25)))
    shown = None
    for choice in LABEL_CHOICES[granularity]:
        picked = [i for i, day in enumerate(starts) if choice(day, i)]
        if min(2, len(labels)) <= len(picked) <= fits:
            shown = picked
            break
    if shown is None:
        shown = positions[::math.ceil(len(labels) / fits)]
    axes.set_xticks(shown, [labels[i] for i in shown])
    axes.set_xticks(positions if len(positions) <= 60 else [], minor=True)


def trend_chart(source: Client | pd.DataFrame, *, start=None, end=None,
                granularity: str = "month", dimension: str = "modality", boundaries=None,
                n: int = 50, modality=None, kind: str = "area",
                top: int = DEFAULT_TOP) -> Figure:
    """Each key's share of downloads per period: stacked to 100% (kind="area") or as lines
    (kind="lines"). `source` is a Client (the chart runs Client.trend with the other
    arguments) or the DataFrame Client.trend returned; see the module docstring."""
    if kind not in ("area", "lines"):
        raise ValueError(f"kind: expected 'area' or 'lines', got {kind!r}")
    if isinstance(source, pd.DataFrame):
        frame = source
    elif isinstance(source, Client):
        frame = source.trend(start, end, granularity=granularity, dimension=dimension,
                             boundaries=boundaries, n=n, modality=modality)
    else:
        raise TypeError(f"expected a hubstats.Client or a DataFrame, got {type(source).__name__}")
    numbers = trend_numbers(frame, top) if not frame.empty else pd.DataFrame()
    granularity = frame.attrs.get("granularity", granularity)
    dimension = frame.attrs.get("dimension", dimension)
    with matplotlib.rc_context(style.STYLE):
        figure, axes, _ = style.new_figure()
        style.titles(axes, _title(frame), _subtitle(frame, numbers))
        if numbers.empty:
            style.no_data(axes)
            return figure
        columns = list(numbers.columns[5:])
        colors = _colors(columns, dimension)
        positions = list(range(len(numbers)))
        series = [numbers[column].to_list() for column in columns]
        if kind == "lines":
            marker = "o" if len(numbers) <= 24 else None
            for values, color in zip(series, colors):
                axes.plot(positions, values, color=color, linewidth=2, marker=marker,
                          markersize=4, zorder=3)
            top_share = max(max(values) for values in series)
            axes.set_ylim(0, min(100, top_share * 1.12) or 1)
            handles = [Line2D([], [], color=color, linewidth=2, marker=marker, markersize=4)
                       for color in colors]
            order = range(len(columns))
        else:
            if len(numbers) == 1:  # One period: a stacked column, an area would be a line.
                bottom = 0.0
                for values, color in zip(series, colors):
                    axes.bar(positions, values, bottom=bottom, width=0.5, color=color,
                             edgecolor="white", linewidth=0.6, zorder=2)
                    bottom += values[0]
                axes.set_xlim(-1, 1)
            else:
                axes.stackplot(positions, *series, colors=colors, edgecolor="white",
                               linewidth=0.6, zorder=2)
                axes.set_xlim(0, len(numbers) - 1)
            axes.set_ylim(0, 100)
            handles = [Patch(facecolor=color, edgecolor="white") for color in colors]
            order = reversed(range(len(columns)))  # As the bands stand, top first.
        if kind == "area":
            axes.set_yticks(range(0, 101, 20))
        axes.yaxis.grid(True, color=style.GRID, zorder=0)
        axes.set_axisbelow(True)
        axes.set_ylabel("Share of downloads (%)")
        labels = _legend_labels(numbers, columns, dimension)
        order = list(order)
        axes.legend([handles[i] for i in order], [labels[i] for i in order],
                    loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8.5,
                    handlelength=1.2, borderaxespad=0.2)
        _footnotes(figure, frame, numbers)
        axes.tick_params(axis="x", labelsize=9)
        _label_periods(figure, axes, numbers, granularity)
    return figure
