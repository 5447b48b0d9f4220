"""Conversions between Python values and hubstats.v1 messages.

Arguments the caller gets wrong in a way the client can see cheaply raise ValueError/TypeError
here; everything else goes to the server, which is the authority on what it accepts. Items of
an ingest or upsert batch that cannot even be encoded raise `ItemError`, which the client turns
into a per-item rejection like the server's own.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
from google.protobuf import timestamp_pb2

from hubstats.v1 import hubstats_pb2 as pb

UTC = dt.timezone.utc
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: Short modality names ("nlp", "computer_vision", ...) in enum order, "unknown" last.
MODALITY_NAMES: tuple[str, ...] = tuple(
    name.removeprefix("MODALITY_").lower() for name, number in pb.Modality.items() if number)
_MODALITY_BY_NAME = {name.removeprefix("MODALITY_").lower(): number
                     for name, number in pb.Modality.items() if number}
_MODALITY_ALIASES = {"cv": "computer_vision", "rl": "reinforcement_learning"}
#: The modality names and aliases as errors and help list them (as the CLI does).
MODALITY_CHOICES = f"{', '.join(MODALITY_NAMES)} (aliases: {', '.join(_MODALITY_ALIASES)})"

#: Architecture names as the server reports them in breakdowns.
ARCHITECTURE_NAMES: tuple[str, ...] = tuple(
    name.removeprefix("ARCHITECTURE_").lower().replace("_", "-")
    for name, number in pb.Architecture.items() if number)
_ARCHITECTURE_BY_NAME = dict(zip(ARCHITECTURE_NAMES, (n for _, n in pb.Architecture.items() if n)))
_NO_ARCHITECTURE = ("", "(none)")

_PARAMETER_SCALES = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}
_PARAMETERS_RE = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([KMBGT]?)\s*",
                            re.IGNORECASE)

EVENT_FIELDS = ("model_id", "timestamp", "count", "revision")
RECORD_FIELDS = ("model_id", "pipeline_tag", "modality", "num_parameters", "architecture",
                 "library_name")
#: Other names a catalog record's keys go by (the Hub's "modelId", and "library").
RECORD_ALIASES = {"modelId": "model_id", "library": "library_name"}


def keys_text(allowed: tuple[str, ...]) -> str:
    """The keys as messages list them: "model_id (or modelId), pipeline_tag, ..."."""
    others = {name: alias for alias, name in RECORD_ALIASES.items()} \
        if allowed == RECORD_FIELDS else {}
    return ", ".join(f"{key} (or {others[key]})" if key in others else key for key in allowed)


class ItemError(Exception):
    """One ingest event or catalog record cannot be encoded; `field` names the culprit."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def is_missing(value: Any) -> bool:
    """None, NaN, pandas NaT/NA: a value left out (as DataFrames spell it)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    # pandas.NaT and pandas.NA compare unequal to themselves, like NaN.
    return type(value).__name__ in ("NaTType", "NAType")


# ---------------------------------------------------------------------------------------------
# Query arguments
# ---------------------------------------------------------------------------------------------

def to_day(value: Any, name: str) -> dt.date | None:
    """A `datetime.date` or "YYYY-MM-DD" string as a date; None stays None.

    A datetime counts as its calendar day in UTC (naive ones are taken as UTC).
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if _DATE_RE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError as error:
                raise ValueError(f"{name}: '{value}' is not a valid date ({error})") from None
        raise ValueError(f"{name}: '{value}' is not a date of the form YYYY-MM-DD")
    raise ValueError(f"{name}: expected a datetime.date or a 'YYYY-MM-DD' string, "
                     f"got {type(value).__name__}")


def date_message(day: dt.date) -> pb.Date:
    return pb.Date(year=day.year, month=day.month, day=day.day)


def date_of(message: pb.Date) -> dt.date:
    return dt.date(message.year, message.month, message.day)


def date_range(start: dt.date | None, end: dt.date | None) -> pb.DateRange | None:
    """The DateRange for already converted days; None (all time) when both are None."""
    if start is None and end is None:
        return None
    day_range = pb.DateRange()
    if start is not None:
        day_range.start.CopyFrom(date_message(start))
    if end is not None:
        day_range.end.CopyFrom(date_message(end))
    return day_range


def modality_number(value: Any, name: str = "modality") -> int:
    """A modality name as its enum number; None gives MODALITY_UNSPECIFIED (no filter).

    Accepts the short names ("nlp", "computer_vision", ..., "unknown"), the aliases "cv" and
    "rl", any letter case, '-' or ' ' for '_', and an optional "MODALITY_" prefix.
    """
    if value is None:
        return pb.MODALITY_UNSPECIFIED
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a modality name such as 'nlp', "
                         f"got {type(value).__name__}")
    key = re.sub(r"[-\s]+", "_", value.strip().lower()).removeprefix("modality_")
    key = _MODALITY_ALIASES.get(key, key)
    if key not in _MODALITY_BY_NAME:
        raise ValueError(f"{name}: '{value}' is not a modality; expected one of "
                         f"{MODALITY_CHOICES}")
    return _MODALITY_BY_NAME[key]


def modality_name(number: int) -> str:
    return pb.Modality.Name(number).removeprefix("MODALITY_").lower()


#: Trend granularities by name ("day", "week": ISO weeks, "month"), as Client.trend takes them.
GRANULARITIES = {name.removeprefix("GRANULARITY_").lower(): number
                 for name, number in pb.Granularity.items() if number}
#: Trend dimensions by name ("modality", "size", ..., "top-models", "top-authors").
TREND_DIMENSIONS = {name.removeprefix("TREND_DIMENSION_").lower().replace("_", "-"): number
                    for name, number in pb.TrendDimension.items() if number}
#: The trend dimensions that split downloads into "top <n>" and "rest".
CONCENTRATION_DIMENSIONS = ("top-models", "top-authors")


def choice_number(value: Any, name: str, choices: dict[str, int]) -> int:
    """The enum number of `value`, one of the names of `choices`; ValueError listing them
    otherwise."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return choices[value]


def choice_name(number: int, choices: dict[str, int]) -> str:
    """The name of enum `number` in `choices` (the names of choice_number)."""
    return next(name for name, value in choices.items() if value == number)


def as_of_dict(message: pb.AsOf) -> dict:
    """An answer's AsOf as {"version": str, "time": aware UTC datetime or None}."""
    time = message.time.ToDatetime(tzinfo=UTC) if message.HasField("time") else None
    return {"version": message.version, "time": time}


def architecture_number(value: Any, name: str = "architecture") -> int:
    """An architecture name ("encoder", "decoder", "encoder-decoder", "other") as its enum
    number; None, "" or "(none)" give ARCHITECTURE_UNSPECIFIED."""
    if is_missing(value):
        return pb.ARCHITECTURE_UNSPECIFIED
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an architecture name, got {type(value).__name__}")
    key = value.strip().lower().replace("_", "-")
    if key in _NO_ARCHITECTURE:
        return pb.ARCHITECTURE_UNSPECIFIED
    if key not in _ARCHITECTURE_BY_NAME:
        raise ValueError(f"{name}: '{value}' is not an architecture; expected one of "
                         f"{', '.join(ARCHITECTURE_NAMES)} or None")
    return _ARCHITECTURE_BY_NAME[key]


def architecture_name(number: int) -> str | None:
    if number == pb.ARCHITECTURE_UNSPECIFIED:
        return None
    return pb.Architecture.Name(number).removeprefix("ARCHITECTURE_").lower().replace("_", "-")


def parameter_count(value: Any, name: str) -> int:
    """A parameter count as an exact int.

    Accepts ints, integral floats (200e6) and strings with an optional K/M/B/G/T suffix
    ("200M", "1.5B", "500000000"). Raises ValueError for anything else, e.g. 1.5e-3 or "7X".
    """
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected a parameter count, got a bool")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value) or value != math.floor(value):
            raise ValueError(f"{name}: must be a whole number, got {value!r}")
        return int(value)
    if isinstance(value, str):
        match = _PARAMETERS_RE.fullmatch(value)
        if match:
            try:
                exact = Decimal(match[1]) * _PARAMETER_SCALES[match[2].upper()]
            except InvalidOperation:
                exact = None
            if exact is not None and exact == exact.to_integral_value():
                return int(exact)
        raise ValueError(f"{name}: '{value}' is not a parameter count "
                         "(e.g. 200M, 1.5B, 1T, 500000000)")
    raise ValueError(f"{name}: expected a parameter count such as 200e6 or '200M', "
                     f"got {type(value).__name__}")


def boundary_counts(boundaries: Any) -> list[int]:
    """Size-class boundaries as exact ints (see parameter_count), each error naming
    "boundaries[i]"; None or an empty sequence give [] (the server's default: 200M, 500M, 1B).
    A lone value instead of a sequence raises ValueError."""
    if boundaries is None:
        return []
    if isinstance(boundaries, (str, int, float)):
        raise ValueError(f"boundaries: expected a sequence such as (200e6, 500e6, 1e9), "
                         f"got {boundaries!r}")
    return [parameter_count(b, f"boundaries[{i}]") for i, b in enumerate(boundaries)]


def model_filters(request: Any, *, modality: Any = None, author: str | None = None,
                  task: str | None = None, library: str | None = None,
                  min_parameters: Any = None, max_parameters: Any = None) -> dict:
    """Sets the model filters of a TopNRequest or ExportRequest (the same fields) on `request`
    and returns them as attrs: {modality, author, task, library, min_parameters,
    max_parameters}, the parameter bounds as the ints sent (None when not given).

    `modality` is a name as modality_number takes it; `author`, `task`, `library` are strings
    (None or "" for no filter); the bounds are parameter counts ("7B"). Anything else raises
    ValueError naming the parameter; the server checks the rest (lengths, min < max).
    """
    request.modality = modality_number(modality)
    for name, value in (("author", author), ("task", task), ("library", library)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name}: expected a string, got {type(value).__name__} {value!r}")
        setattr(request, name, value or "")
    bounds = {}
    for name, value in (("min_parameters", min_parameters), ("max_parameters", max_parameters)):
        bounds[name] = None if value is None else parameter_count(value, name)
        if bounds[name] is not None:
            if not INT64_MIN <= bounds[name] <= INT64_MAX:
                raise ValueError(f"{name}: {bounds[name]} does not fit in 64 bits")
            setattr(request, name, bounds[name])
    return {"modality": modality, "author": author, "task": task, "library": library, **bounds}


# ---------------------------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------------------------

def frame(columns: dict[str, tuple[list, str]], attrs: dict) -> pd.DataFrame:
    """A DataFrame with the given {name: (values, dtype)} columns and attrs."""
    result = pd.DataFrame({name: pd.Series(values, dtype=dtype)
                           for name, (values, dtype) in columns.items()})
    result.attrs.update(attrs)
    return result


def range_attrs(start: dt.date | None, end: dt.date | None) -> dict:
    """The attrs every query's DataFrame carries: the range as asked for."""
    return {"start": start, "end": end}


# ---------------------------------------------------------------------------------------------
# Ingest items
# ---------------------------------------------------------------------------------------------

def canonical_fields(item: Any, allowed: tuple[str, ...]) -> dict:
    """`item` with its keys under their canonical names (see RECORD_ALIASES). Raises ItemError
    unless it is a mapping whose keys are all allowed (or an alias of one), each given once."""
    if not hasattr(item, "keys"):
        raise ItemError("", f"expected a dict with keys {keys_text(allowed)}, "
                            f"got {type(item).__name__}")
    aliases = RECORD_ALIASES if allowed == RECORD_FIELDS else {}
    fields = {}
    for key in item.keys():
        name = aliases.get(key, key)
        if name not in allowed:
            raise ItemError(str(key), f"unknown key; expected {keys_text(allowed)}")
        if name in fields:
            raise ItemError(str(key), "is given twice (also by another name)")
        fields[name] = item[key]
    return fields


def _text(item: dict, field: str) -> str:
    value = item.get(field)
    if is_missing(value):
        return ""
    if not isinstance(value, str):
        raise ItemError(field, f"must be a string, got {type(value).__name__} {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ItemError(field, f"is not valid Unicode text ({error.reason})") from None
    return value


_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
                      r"([Zz]|[+-]\d{2}:\d{2})?)?", re.ASCII)


def parse_timestamp_text(text: str) -> timestamp_pb2.Timestamp:
    """An RFC 3339 time ('T', 't' or ' ' between date and time; no offset means UTC) or a
    YYYY-MM-DD date (midnight UTC), as the CLI reads them. Raises ItemError otherwise."""
    match = _RFC3339.fullmatch(text.strip())
    try:
        if not match:
            raise ValueError
        year, month, day, hour, minute, second = (int(part or 0) for part in match.groups()[:6])
        offset = match[8] or "Z"
        zone = UTC if offset in "Zz" else dt.timezone(
            (1 if offset[0] == "+" else -1) * dt.timedelta(hours=int(offset[1:3]),
                                                           minutes=int(offset[4:6])))
        moment = dt.datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        raise ItemError("timestamp", f"'{text}' is not an RFC 3339 time (e.g. "
                                     "2024-09-20T12:00:00Z), a YYYY-MM-DD date or Unix seconds"
                        ) from None
    since_epoch = moment - _EPOCH
    nanos = int((match[7] or "0")[:9].ljust(9, "0"))
    return timestamp_pb2.Timestamp(seconds=since_epoch.days * 86400 + since_epoch.seconds,
                                   nanos=nanos)


def timestamp_message(value: Any) -> timestamp_pb2.Timestamp | None:
    """An event time as a Timestamp; None when it is left out (the server's receive time).

    Accepts datetimes (naive ones are UTC; pandas Timestamps keep their nanoseconds), dates
    (midnight UTC), RFC 3339 strings and YYYY-MM-DD dates (see parse_timestamp_text) and Unix
    seconds (int or float).
    """
    if is_missing(value):
        return None
    if isinstance(value, str):
        return parse_timestamp_text(value)
    if isinstance(value, dt.datetime):
        extra_nanos = getattr(value, "nanosecond", 0)  # pandas.Timestamp
        aware = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        since_epoch = aware - _EPOCH
        return timestamp_pb2.Timestamp(seconds=since_epoch.days * 86400 + since_epoch.seconds,
                                       nanos=since_epoch.microseconds * 1000 + extra_nanos)
    if isinstance(value, dt.date):
        midnight = dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
        return timestamp_pb2.Timestamp(seconds=int(midnight.timestamp()))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if isinstance(value, numbers.Integral):
            return timestamp_pb2.Timestamp(seconds=_int64("timestamp", int(value)))
        if not math.isfinite(value):
            raise ItemError("timestamp", f"{value!r} is not a time")
        seconds = _int64("timestamp", math.floor(value))
        nanos = min(round((value - seconds) * 1e9), 999_999_999)
        return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
    raise ItemError("timestamp", "must be an RFC 3339 time, a YYYY-MM-DD date or Unix seconds "
                                 f"(or a datetime or date), got {type(value).__name__}")


def _int64(field: str, value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ItemError(field, f"{value} does not fit in 64 bits")
    return value


def _whole_number(item: dict, field: str) -> int | None:
    value = item.get(field)
    if is_missing(value):
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return _int64(field, int(value))
    if isinstance(value, float) and math.isfinite(value) and value == math.floor(value):
        return _int64(field, int(value))
    raise ItemError(field, f"must be a whole number, got {value!r}")


def _required_id(item: dict) -> None:
    if is_missing(item.get("model_id")):
        raise ItemError("model_id", "is missing")


def event_fields(item: Any) -> dict:
    """The DownloadEvent fields of one ingest item (keyword arguments for the message)."""
    item = canonical_fields(item, EVENT_FIELDS)
    _required_id(item)
    fields = {"model_id": _text(item, "model_id"), "revision": _text(item, "revision")}
    timestamp = timestamp_message(item.get("timestamp"))
    if timestamp is not None:
        fields["timestamp"] = timestamp
    count = _whole_number(item, "count")
    if count is not None:
        fields["count"] = count
    return fields


def record_fields(item: Any) -> dict:
    """The ModelRecord fields of one catalog record (keyword arguments for the message)."""
    item = canonical_fields(item, RECORD_FIELDS)
    _required_id(item)
    fields = {field: _text(item, field) for field in ("model_id", "pipeline_tag", "library_name")}
    try:
        modality = item.get("modality")
        fields["modality"] = (pb.MODALITY_UNSPECIFIED if is_missing(modality) or modality == ""
                              else modality_number(modality))
    except ValueError as error:
        raise ItemError("modality", str(error).removeprefix("modality: ")) from None
    try:
        fields["architecture"] = architecture_number(item.get("architecture"))
    except ValueError as error:
        raise ItemError("architecture", str(error).removeprefix("architecture: ")) from None
    parameters = item.get("num_parameters")
    if not is_missing(parameters):
        try:
            fields["num_parameters"] = _int64("num_parameters",
                                              parameter_count(parameters, "num_parameters"))
        except ValueError as error:
            raise ItemError("num_parameters",
                            str(error).removeprefix("num_parameters: ")) from None
    return fields


def record_dict(record: pb.ModelRecord) -> dict:
    """A ModelRecord as a dict of Python values; unset fields are None."""
    return {
        "model_id": record.model_id,
        "pipeline_tag": record.pipeline_tag or None,
        "modality": modality_name(record.modality) if record.modality else None,
        "num_parameters": record.num_parameters or None,
        "architecture": architecture_name(record.architecture),
        "library_name": record.library_name or None,
    }
