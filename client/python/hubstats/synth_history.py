"""The synthetic hub's history: the months before its 30-day window, in which the modality
shares move toward the report's figures (audio growing from 9.6% to 15.1%, NLP falling from
64.5% to 58.1%, ...), so that a trend over 12 months ends where the report stands.

    hub = SyntheticHub(seed, models, events, trend_months=12, history_events=25_000)

How the shares come out by construction
---------------------------------------
1. The history runs from the 1st of the month `months - 1` before the window's last month to
   the day before the window: 12 months reach back from September 2024 to 1 October 2023.
2. Each history day has a volume (the window's daily mean, shrinking by MONTHLY_GROWTH a month
   going back, weekends at 0.8) and target modality shares: START_SHARES on the first day,
   moving in a straight line to the window's own shares (the report's) at the window's start.
3. A modality's history downloads are shared among its models in proportion to their window
   downloads (systematic rounding: exact integer totals), so sizes, architectures and
   organisations keep the window's mix within each modality. Only the `models` busiest models
   have a history (the others are new in the window): the history's `events` lines are split
   among them like the window's lines (about downloads^0.6 each).
4. Lines take equal shares of their model's history downloads and are placed on days by the
   same download-weighted assignment as the cells (synth.apportion), per modality, so each
   modality fills each day to its target up to about one line; the time of day is random.

Everything is drawn from the hub's seed: the history is as deterministic as the window, and
its arrays (model, day, count per line) are what `SyntheticHub.daily_totals` sums.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
import numpy as np

from hubstats import synth

#: Modality shares (%) on the history's first day; they move linearly to the window's.
START_SHARES = {
    "nlp": 64.5,
    "computer_vision": 21.4,
    "audio": 9.6,
    "multimodal": 2.0,
    "time_series": 1.0,
    "tabular": 0.25,
    "reinforcement_learning": 0.15,
    "other": 0.4,
    "unknown": 0.7,
}
#: Downloads grow by this factor a month (30.44 days), up to the window.
MONTHLY_GROWTH = 1.04
#: Lines of a model a day at most (hourly), over the history's days.
LINES_PER_DAY = 24


def history_start(end_day: dt.date, months: int) -> dt.date:
    """The 1st of the month `months - 1` calendar months before `end_day`'s."""
    index = end_day.year * 12 + end_day.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class History:
    """History lines, sorted by model: model index, day (offset from `start_day`) and count
    of each line."""

    start_day: dt.date
    days: int
    model: np.ndarray  # int64, ascending
    day: np.ndarray    # int64, 0 .. days - 1
    count: np.ndarray  # int64, 1 .. MAX_EVENT_COUNT

    @property
    def total_downloads(self) -> int:
        return int(self.count.sum())

    @property
    def event_count(self) -> int:
        return len(self.count)

    def lines_of(self, start: int, stop: int) -> slice:
        """The lines of models [start, stop)."""
        return slice(int(np.searchsorted(self.model, start)),
                     int(np.searchsorted(self.model, stop)))


def build(totals: np.ndarray, modality: np.ndarray, window_start: dt.date, window_days: int,
          months: int, events: int, rng: np.random.Generator) -> History:
    """The history of a hub whose active models (busiest first) have `totals` downloads in the
    window and modality index `modality` (into synth.MODALITIES). Raises ValueError when the
    months do not reach before the window or `events` cannot hold the history."""
    start = history_start(window_start + dt.timedelta(days=window_days - 1), months)
    days = (window_start - start).days
    if days < 1:
        raise ValueError(f"trend months {months}: the history must begin before the window "
                         f"({window_start}); use at least 2")
    volume, targets = _day_targets(totals, modality, start, days, window_start, window_days)
    with_history = min(len(totals), max(1, events // 2))
    totals, modality = totals[:with_history], modality[:with_history]
    present = np.bincount(modality, minlength=len(synth.MODALITIES)) > 0
    # A modality without a model in the history has no history share; the others fill it.
    targets = targets * present
    targets = targets / targets.sum(axis=1, keepdims=True)
    per_modality = np.rint((volume[:, None] * targets).sum(axis=0)).astype(np.int64)
    downloads = _split_by_weight(totals, modality, per_modality)
    lines = synth.allot_lines(downloads, events, days * LINES_PER_DAY, "--history-events")
    model = np.repeat(np.arange(with_history, dtype=np.int64), lines)
    first = np.concatenate(([0], np.cumsum(lines)[:-1]))
    position = np.arange(len(model)) - np.repeat(first, lines)
    base, extra = np.divmod(downloads, np.maximum(lines, 1))
    count = base[model] + (position < extra[model])
    day = np.zeros(len(model), dtype=np.int64)
    for k in np.flatnonzero(per_modality > 0):
        mine = np.flatnonzero(modality[model] == k)
        order = mine[np.argsort(-count[mine], kind="stable")]
        weights = volume * targets[:, k]
        day[order] = synth.apportion(count[order], weights / weights.sum(), rng,
                                     spread_overflow=True)
    return History(start, days, model, day, count.astype(np.int64))


def _day_targets(totals: np.ndarray, modality: np.ndarray, start: dt.date, days: int,
                 window_start: dt.date, window_days: int) -> tuple[np.ndarray, np.ndarray]:
    """(downloads per history day, target modality shares per day (days x modalities))."""
    window = np.bincount(modality, weights=totals.astype(np.float64),
                         minlength=len(synth.MODALITIES))
    final = window / window.sum()
    begin = np.array([START_SHARES[m] for m in synth.MODALITIES]) * (window > 0)
    begin = begin / begin.sum()
    offsets = np.arange(days)
    dates = [start + dt.timedelta(days=int(d)) for d in offsets]
    weekend = np.array([0.8 if day.weekday() >= 5 else 1.0 for day in dates])
    months_before = (days - offsets) / 30.44
    volume = window.sum() / window_days * MONTHLY_GROWTH ** -months_before * weekend
    progress = (offsets / days)[:, None]
    return volume, begin + (final - begin) * progress


def _split_by_weight(totals: np.ndarray, modality: np.ndarray,
                     per_modality: np.ndarray) -> np.ndarray:
    """Each modality's downloads over its models in proportion to `totals`, as integers that
    add up exactly (systematic rounding: each model within one of its exact share)."""
    result = np.zeros(len(totals), dtype=np.int64)
    for k in np.flatnonzero(per_modality > 0):
        mine = np.flatnonzero(modality == k)
        cumulative = np.cumsum(totals[mine].astype(np.float64))
        cumulative = np.floor(cumulative / cumulative[-1] * per_modality[k]).astype(np.int64)
        cumulative[-1] = per_modality[k]
        result[mine] = np.diff(cumulative, prepend=0)
    return result


def event_arrays(history: History, start: int, stop: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lines of models [start, stop) as (model offset from `start`, Unix seconds,
    count), in time order."""
    lines = history.lines_of(start, stop)
    base = int(dt.datetime(history.start_day.year, history.start_day.month,
                           history.start_day.day, tzinfo=dt.timezone.utc).timestamp())
    day = history.day[lines]
    seconds = base + day * 86400 + rng.integers(0, 86400, size=len(day))
    by_time = np.argsort(seconds, kind="stable")
    return history.model[lines][by_time] - start, seconds[by_time], history.count[lines][by_time]
