"""What every hubstats chart shares, in one place: the palette (one colour per modality, neutral
colours for everything else), modality labels, figure size and style, share and parameter
formats, and the layout helpers (figure, titles, footnotes, the "no data" note).
hubstats.charts and hubstats.trend_chart draw with these; see hubstats.charts for how the charts
read.
"""

from __future__ import annotations

import datetime as dt

import matplotlib
import matplotlib.colors
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

#: One colour per modality, the same in every chart; no other bar or line takes one of them.
MODALITY_COLORS = {
    "nlp": "#ffd21e",
    "computer_vision": "#371b6b",
    "audio": "#7b2cbf",
    "multimodal": "#c77dff",
    "time_series": "#2a9d8f",
    "tabular": "#e76f51",
    "reinforcement_learning": "#457b9d",
    "other": "#8d99ae",
    "unknown": "#c9c9c9",
}
#: Colours of what is not a modality: bars of organisations, sizes, tasks, architectures and
#: libraries ("bar"), a breakdown's "all other ..." bar ("rest"), the concentration curve
#: ("line", "fill") and its marks ("mark").
NEUTRAL_COLORS = {"bar": "#3d405b", "rest": "#b4b8c8", "line": "#3d405b", "fill": "#dfe1ea",
                  "mark": "#ffffff"}
#: How modality names read in charts.
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
#: Width and smallest height, in inches, of every figure: 1200 x 675 pixels at DPI.
FIGURE_SIZE = (8.0, 4.5)
DPI = 150
TEXT = "#1f1f1f"
MUTED = "#5f5f5f"
GRID = "#e4e4e4"
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 10.5,
    "axes.labelsize": 10.5,
    "axes.labelcolor": TEXT,
    "axes.edgecolor": "#8a8a8a",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "text.color": TEXT,
}


def format_parameters(count: int) -> str:
    """A parameter count the way the server labels classes: 200M, 1B, 1.5B, 1T."""
    for suffix, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if count >= scale:
            whole, rest = divmod(count, scale)
            if rest == 0:
                return f"{whole}{suffix}"
            return f"{whole}.{str(scale + rest)[1:].rstrip('0')}{suffix}"
    return str(count)


def format_share(value: float) -> str:
    """Two decimals; a share that would round to 0.00% (or 100.00%) without being it says so."""
    if 0 < value < 0.005:
        return "<0.01%"
    if 99.995 <= value < 100:
        return ">99.99%"
    return f"{value:.2f}%"


def day_text(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def days_text(first: dt.date, last: dt.date) -> str:
    return day_text(first) if first == last else f"{day_text(first)} – {day_text(last)}"


def no_downloads_text(start: dt.date | None, end: dt.date | None,
                      span: tuple[dt.date, dt.date] | None) -> str:
    """What an empty answer for the range asked (start, end; None: open) says, given the
    server's data span (Client.data_span; None when it holds nothing)."""
    if span is None:
        return "No downloads on the server"
    asked = ("All days" if start is None and end is None else
             f"{day_text(start)} onwards" if end is None else
             f"Up to {day_text(end)}" if start is None else days_text(start, end))
    return f"{asked}: no downloads; the data spans {days_text(*span)}"


def neutral_shades(count: int) -> list[str]:
    """`count` colours from NEUTRAL_COLORS["bar"] (dark) to a light grey-blue, for charts
    that tell several keys apart that are not modalities (task, size class, ...)."""
    dark = matplotlib.colors.to_rgb(NEUTRAL_COLORS["bar"])
    light = matplotlib.colors.to_rgb("#b3b6c6")
    steps = [i / (count - 1) for i in range(count)] if count > 1 else [0.0]
    return [matplotlib.colors.to_hex([d + (l - d) * t for d, l in zip(dark, light)])
            for t in steps]


def bar_slot(bars: int) -> float:
    """The height, in inches, of one horizontal bar's slot: long lists get thinner bars (and
    smaller fonts) so that a 100-bar chart stays readable on a screen."""
    return 0.3 if bars <= 15 else 0.22 if bars <= 40 else 0.18


def new_figure(bars: int = 0) -> tuple[Figure, matplotlib.axes.Axes, float]:
    """A pyplot figure tall enough for `bars` horizontal bars, its axes and the font size for
    one bar's labels."""
    slot = bar_slot(bars)
    height = max(FIGURE_SIZE[1], 1.9 + bars * slot)
    figure = plt.figure(figsize=(FIGURE_SIZE[0], height), dpi=DPI, layout="constrained")
    figure.get_layout_engine().set(w_pad=0.15, h_pad=0.12)
    # A label's line takes about 1.2 times its font size; keep it within its bar's slot.
    font = min(10.5, slot * 72 / 1.45)
    return figure, figure.add_subplot(), font


def titles(axes, title: str, subtitle: str) -> None:
    """Title and subtitle above the axes, from the figure's left edge: long bar labels push the
    axes right, and the titles must not run off the figure then."""
    where = {"xy": (0.015, 1), "xycoords": ("figure fraction", "axes fraction"),
             "textcoords": "offset points", "ha": "left", "va": "bottom",
             "annotation_clip": False}
    axes.annotate(title, xytext=(0, 26), fontsize=13.5, fontweight="bold", **where)
    axes.annotate(subtitle, xytext=(0, 8), fontsize=10, color=MUTED, **where)


def add_footnote(figure: Figure, text: str) -> None:
    """Adds a line under the chart (the layout makes room for it); later lines go below."""
    notes = getattr(figure, "_hubstats_notes", [])
    notes.append(text)
    figure._hubstats_notes = notes
    figure.supxlabel("\n".join(notes), x=0.01, ha="left", fontsize=8.5, color=MUTED,
                     fontstyle="italic")


def no_data(axes, message: str = "No downloads in this period") -> None:
    axes.text(0.5, 0.5, message, transform=axes.transAxes, ha="center", va="center",
              fontsize=12, color=MUTED)
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)
