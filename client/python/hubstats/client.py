"""`Client`: the Python API of a hubstats server.

Queries return pandas DataFrames (or dicts) of exact counts; shares are percentages (0..100)
computed by the server. Ingestion streams batches without holding the caller's whole input,
exactly once: batches carry a producer id and sequence, and unacknowledged ones are re-sent
after failures, to the same or another server (see `Client.ingest`; the machinery is in
hubstats._ingest, file reading in hubstats._input).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import socket
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import grpc
import pandas as pd

from hubstats import _convert as convert
from hubstats import _crosstab, _export
from hubstats import _version as version_token
from hubstats._convert import frame as _frame, range_attrs as _range_attrs
from hubstats._ingest import (DEFAULT_RETRY_FOR, MAX_BATCHES_IN_FLIGHT, RETRYABLE_CODES,  # noqa: F401
                              Batcher, Ingestion, Progress)
from hubstats._input import DEFAULT_ITEM_BYTES, FileReader, choose_format
from hubstats._security import ChannelSecurity
from hubstats.errors import HubstatsError, from_rpc_error
from hubstats.v1 import hubstats_pb2 as pb
from hubstats.v1 import hubstats_pb2_grpc as pb_grpc

#: The most events or records the server takes in one request.
MAX_BATCH_SIZE = 100_000
#: The default batch_bytes: a request's bytes, at most; well below the server's message limit
#: (--max-message-mb, 16 MiB by default).
DEFAULT_BATCH_BYTES = DEFAULT_ITEM_BYTES
#: The largest batch_bytes.
MAX_BATCH_BYTES = 16 << 20
#: Large enough for a response listing a rejection for each of MAX_BATCH_SIZE items.
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: Keepalive as docs/OPERATIONS.md ("Keepalive") agrees it with the server: a ping after 30 s
#: without data finds a dead server or a dropped proxy connection within 40 s, and the server
#: accepts pings every 10 s or slower (--keepalive-min-ping-interval-ms) during calls.
KEEPALIVE_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 0),
    ("grpc.http2.max_pings_without_data", 0),
]
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
    *KEEPALIVE_OPTIONS,
]
_PRODUCER_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_RANK_BY = {"model": pb.RANK_BY_MODEL, "author": pb.RANK_BY_AUTHOR}
_DIMENSIONS = {"task": pb.DIMENSION_TASK, "architecture": pb.DIMENSION_ARCHITECTURE,
               "library": pb.DIMENSION_LIBRARY}


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) \
            or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be an int between 1 and {MAX_BATCH_SIZE}, "
                         f"got {batch_size!r}")


def _check_batch_bytes(batch_bytes: int) -> None:
    if isinstance(batch_bytes, bool) or not isinstance(batch_bytes, int) \
            or not 1024 <= batch_bytes <= MAX_BATCH_BYTES:
        raise ValueError(f"batch_bytes must be an int between 1024 and {MAX_BATCH_BYTES}, "
                         f"got {batch_bytes!r}")


def _split_targets(target: str) -> list[str]:
    if not isinstance(target, str):
        raise ValueError(f"target: expected 'host:port' or 'host1:port1,host2:port2', "
                         f"got {target!r}")
    targets = [part.strip() for part in target.split(",") if part.strip()]
    if not targets:
        raise ValueError(f"target: expected 'host:port' or 'host1:port1,host2:port2', "
                         f"got {target!r}")
    return targets


def new_producer_id() -> str:
    """A producer id unique to one ingest call: "py-<host>-<pid>-<random>"."""
    host = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "host"
    return f"py-{host}-{os.getpid()}-{secrets.token_hex(4)}"


def _check_producer_id(producer_id: str) -> None:
    if not isinstance(producer_id, str) or not _PRODUCER_ID.fullmatch(producer_id):
        raise ValueError(f"producer_id must be 1-128 characters of [A-Za-z0-9._:-], "
                         f"got {producer_id!r}")


def _items(data: Iterable[dict] | pd.DataFrame, allowed: tuple[str, ...]) -> Iterator[Any]:
    """The caller's items one by one; DataFrame rows become dicts of their columns."""
    if not isinstance(data, pd.DataFrame):
        return iter(data)
    aliases = convert.RECORD_ALIASES if allowed == convert.RECORD_FIELDS else {}
    unknown = [str(column) for column in data.columns
               if aliases.get(column, column) not in allowed]
    if unknown:
        raise ValueError(f"unknown columns {', '.join(unknown)}; expected "
                         f"{convert.keys_text(allowed)}")
    columns = list(data.columns)
    return (dict(zip(columns, row)) for row in data.itertuples(index=False, name=None))


@dataclass
class _Stubs:
    channel: grpc.Channel
    ingest: pb_grpc.IngestServiceStub
    query: pb_grpc.QueryServiceStub

    @classmethod
    def of(cls, channel: grpc.Channel) -> _Stubs:
        return cls(channel, pb_grpc.IngestServiceStub(channel), pb_grpc.QueryServiceStub(channel))


class Client:
    """A connection to one or more hubstats servers.

    `target` is "host:port", or a comma-separated list "host1:port1,host2:port2" of replicas
    serving the same data (the same Redis); DNS names are fine. A query or upsert goes to the
    first target that answers: the client starts with the one that answered last (initially
    the first) and moves on to the next when a call fails with UNAVAILABLE, raising only when
    every target failed. `ingest` fails over between the targets on a fresh channel per stream.
    `timeout` (seconds) bounds every query and upsert call (each attempt, with several
    targets); an ingest stream has no overall deadline, because it lasts as long as the
    caller's input. Use as a context manager or call `close()`.

    Security: `tls` (verify the server with the system's CAs), `ca_file` (verify it with these
    CAs; implies TLS), `cert_file` and `key_file` (a client certificate, for mutual TLS),
    `server_name` (the name the server's certificate must hold), and the bearer token as
    `token` or in `token_file`. Each falls back to its environment variable (HUBSTATS_TLS,
    HUBSTATS_CA_FILE, HUBSTATS_CERT_FILE, HUBSTATS_KEY_FILE, HUBSTATS_TLS_SERVER_NAME,
    HUBSTATS_TOKEN, HUBSTATS_TOKEN_FILE), so a job's code need not handle secrets.

    Errors reported by the server raise `hubstats.HubstatsError` subclasses
    (InvalidArgumentError, NotFoundError, UnavailableError, FailedPreconditionError).
    Arguments the client can check cheaply (dates, modality names, boundaries, `by`, a
    trend's granularity and dimension) raise ValueError before any call. Every query takes
    `start`/`end` (inclusive UTC days: `datetime.date` or "YYYY-MM-DD"); leaving one out runs
    from the first / through the last day with data. The answers of modality_share,
    size_distribution, top_n, breakdown and crosstab with downloads carry attrs["first_day"]
    and attrs["last_day"] (`datetime.date`): data_span(start, end), the first and last day with
    downloads in the range (of any model: filters do not narrow it), which charts of the
    DataFrame state. A DataFrame query over a range without downloads answers an empty
    DataFrame (the same columns, no rows) whose attrs["data_span"] is the (first, last) day of
    the server's data, or None when it holds none: "no downloads in June; data spans
    2024-08-01..2024-09-30".
    """

    def __init__(self, target: str = "localhost:50051", *, timeout: float = 10.0,
                 tls: bool | None = None, ca_file: str | None = None,
                 cert_file: str | None = None, key_file: str | None = None,
                 server_name: str | None = None, token: str | None = None,
                 token_file: str | None = None, fresh: bool = False):
        self.targets = _split_targets(target)
        self.target = target
        self.timeout = timeout
        # Queries include this client's own writes (the versions its ingest and upsert answers
        # carried); with `fresh` (here or per query) everything committed anywhere before them.
        self.fresh = fresh
        self.written_version = ""
        self._security = ChannelSecurity.from_settings(
            tls=tls, ca_file=ca_file, cert_file=cert_file, key_file=key_file,
            server_name=server_name, token=token, token_file=token_file)
        self._stubs = [_Stubs.of(self._new_channel(t)) for t in self.targets]
        self._preferred = 0  # Index of the target that answered the last query.
        self._closed = False

    def _new_channel(self, target: str) -> grpc.Channel:
        return self._security.channel(target, _CHANNEL_OPTIONS)

    def close(self) -> None:
        """Closes the channels; the client cannot be used afterwards."""
        self._closed = True
        for stubs in self._stubs:
            stubs.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.target!r}, timeout={self.timeout})"

    def _query(self, method: str, request, fresh: bool | None):
        """Calls QueryService.`method`, asking for this client's writes (or, `fresh`, for
        everything committed before the call) to be included."""
        return self._call("query", method, self._fresh(request, fresh))

    def _fresh(self, request, fresh: bool | None):
        """Sets the request's freshness as `_query` asks for it; returns the request."""
        if self.fresh if fresh is None else fresh:
            request.freshness.fresh = True
        elif self.written_version:
            request.freshness.min_version = self.written_version
        return request

    def _wrote(self, version: str) -> None:
        self.written_version = version_token.merge(self.written_version, version)

    def _call(self, service: str, method: str, request):
        """Calls `service`.`method` ("query" or "ingest") on the first target that answers."""
        count = len(self._stubs)
        first = self._preferred
        for attempt in range(count):
            index = (first + attempt) % count
            call = getattr(getattr(self._stubs[index], service), method)
            try:
                response = call(request, timeout=self.timeout)
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNAVAILABLE and attempt + 1 < count:
                    continue  # Try the next replica.
                raise from_rpc_error(error) from None
            self._preferred = index
            return response
        raise AssertionError("unreachable")

    def _span_attrs(self, total_downloads: int, start, end, fresh: bool | None) -> dict:
        """The attrs that place an answer in time. With downloads: first_day and last_day,
        data_span(start, end), the first and last day with downloads in the range asked (so a
        chart of the DataFrame states them). Without: data_span = data_span() of all the data,
        so the caller sees where the data lies."""
        if total_downloads > 0:
            span = self.data_span(start, end, fresh=fresh)
            return {} if span is None else {"first_day": span[0], "last_day": span[1]}
        return {"data_span": self.data_span(fresh=fresh)}

    def _rows(self, response, start, end, fresh: bool | None) -> tuple[list, dict]:
        """The answer's rows (none when the range holds no downloads) and _span_attrs."""
        attrs = self._span_attrs(response.total_downloads, start, end, fresh)
        return (list(response.rows) if response.total_downloads > 0 else []), attrs

    # -----------------------------------------------------------------------------------------
    # Queries
    # -----------------------------------------------------------------------------------------

    def modality_share(self, start=None, end=None, *, fresh: bool | None = None) -> pd.DataFrame:
        """Downloads per modality: columns [modality, downloads, share_pct].

        All nine modalities ("nlp", "computer_vision", ..., "other", "unknown"), by downloads
        descending. attrs: total_downloads, start, end, first_day, last_day (see Client).
        """
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        response = self._query("GetModalityShare",
                               pb.ModalityShareRequest(range=convert.date_range(start, end)), fresh)
        rows, days = self._rows(response, start, end, fresh)
        return _frame({
            "modality": ([row.name for row in rows], "object"),
            "downloads": ([row.downloads for row in rows], "int64"),
            "share_pct": ([row.share_pct for row in rows], "float64"),
        }, {"total_downloads": response.total_downloads, **_range_attrs(start, end), **days})

    def size_distribution(self, boundaries=(200e6, 500e6, 1e9), start=None, end=None,
                          modality=None, *, fresh: bool | None = None) -> pd.DataFrame:
        """Downloads of known-size models per size class.

        Columns [label, lower, upper, downloads, share_pct, share_of_known_pct, cumulative_pct],
        smallest class first; a class holds models with lower <= num_parameters < upper.
        `upper` has the nullable "Int64" dtype and is <NA> for the open-ended last class
        (">=1B"); `lower` is int64. share_pct is of all downloads, share_of_known_pct and
        cumulative_pct of known-size downloads.

        `boundaries` is a sequence of parameter counts (1 .. 10^15, at most 64), strictly
        increasing: ints, integral floats (200e6) or strings ("200M", "7B", "13B"). Any value is
        answered exactly. A non-integral value raises ValueError; one the server refuses (0,
        not increasing) InvalidArgumentError. None or
        an empty sequence gives the server's default (200M, 500M, 1B).
        `modality` filters by modality name.

        attrs: total_downloads, known_downloads, unknown_downloads, unknown_share_pct,
        boundaries (the ints used), modality, start, end, first_day, last_day (see Client).
        """
        counts = convert.boundary_counts(boundaries)
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        request = pb.SizeDistributionRequest(range=convert.date_range(start, end),
                                             boundaries=counts,
                                             modality=convert.modality_number(modality))
        response = self._query("GetSizeDistribution", request, fresh)
        rows, days = self._rows(response, start, end, fresh)
        return _frame({
            "label": ([row.label for row in rows], "object"),
            "lower": ([row.lower for row in rows], "int64"),
            "upper": ([row.upper if row.HasField("upper") else pd.NA for row in rows], "Int64"),
            "downloads": ([row.downloads for row in rows], "int64"),
            "share_pct": ([row.share_pct for row in rows], "float64"),
            "share_of_known_pct": ([row.share_of_known_pct for row in rows], "float64"),
            "cumulative_pct": ([row.cumulative_pct for row in rows], "float64"),
        }, {
            "total_downloads": response.total_downloads,
            "known_downloads": response.known_downloads,
            "unknown_downloads": response.unknown_downloads,
            "unknown_share_pct": response.unknown_share_pct,
            "boundaries": list(response.boundaries),
            "modality": modality,
            **_range_attrs(start, end),
            **days,
        })

    def top_n(self, n: int = 50, by: str = "model", start=None, end=None,
              modality=None, *, author: str | None = None, task: str | None = None,
              library: str | None = None, min_parameters=None, max_parameters=None,
              fresh: bool | None = None) -> pd.DataFrame:
        """The n models (by="model") or authors (by="author") with the most downloads.

        Columns [rank, id, downloads, share_pct, cumulative_pct]: ranked by downloads
        descending, ties by id; cumulative_pct is the share held by ranks 1..rank. Fewer than n
        rows when fewer have downloads. n is 1..10,000 (the server checks the upper limit).

        Filters (all given must hold; shares are then of the admitted models' downloads):
        `modality`; `author` (the id's part before "/"); `task` and `library` (breakdown keys:
        a pipeline tag or library, "(none)", or "unknown" without a record); and
        min_parameters <= parameters < max_parameters (counts like "7B"; models of unknown
        size are left out when either is given).
        attrs: total_downloads, top_downloads, top_share_pct, by, modality, author, task,
        library, min_parameters, max_parameters, start, end, first_day, last_day (see Client).
        """
        if by not in _RANK_BY:
            raise ValueError(f"by: expected 'model' or 'author', got {by!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n: expected a positive int, got {n!r}")
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        request = pb.TopNRequest(range=convert.date_range(start, end), n=n, by=_RANK_BY[by])
        filters = convert.model_filters(request, modality=modality, author=author, task=task,
                                        library=library, min_parameters=min_parameters,
                                        max_parameters=max_parameters)
        response = self._query("GetTopN", request, fresh)
        rows, days = self._rows(response, start, end, fresh)
        return _frame({
            "rank": ([row.rank for row in rows], "int64"),
            "id": ([row.id for row in rows], "object"),
            "downloads": ([row.downloads for row in rows], "int64"),
            "share_pct": ([row.share_pct for row in rows], "float64"),
            "cumulative_pct": ([row.cumulative_pct for row in rows], "float64"),
        }, {
            "total_downloads": response.total_downloads,
            "top_downloads": response.top_downloads,
            "top_share_pct": response.top_share_pct,
            "by": by,
            **filters,
            **_range_attrs(start, end),
            **days,
        })

    def breakdown(self, by: str = "task", start=None, end=None, modality=None, *,
                  fresh: bool | None = None) -> pd.DataFrame:
        """Downloads per pipeline tag (by="task"), architecture or library.

        Columns [key, downloads, share_pct], downloads descending, ties by key. A key is
        "(none)" when catalog records leave the field empty and "unknown" for models without a
        catalog record. attrs: total_downloads, by, modality, start, end, first_day, last_day
        (see Client).
        """
        if by not in _DIMENSIONS:
            raise ValueError(f"by: expected one of {', '.join(_DIMENSIONS)}, got {by!r}")
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        request = pb.BreakdownRequest(range=convert.date_range(start, end),
                                      dimension=_DIMENSIONS[by],
                                      modality=convert.modality_number(modality))
        response = self._query("GetBreakdown", request, fresh)
        rows, days = self._rows(response, start, end, fresh)
        return _frame({
            "key": ([row.key for row in rows], "object"),
            "downloads": ([row.downloads for row in rows], "int64"),
            "share_pct": ([row.share_pct for row in rows], "float64"),
        }, {"total_downloads": response.total_downloads, "by": by, "modality": modality,
            **_range_attrs(start, end), **days})

    def trend(self, start=None, end=None, *, granularity: str = "month",
              dimension: str = "modality", boundaries=None, n: int = 50, modality=None,
              fresh: bool | None = None) -> pd.DataFrame:
        """Downloads and shares per day, ISO week or month, split by a dimension, in one call.

        Columns [period_start, first_day, last_day, key, downloads, share_pct]: one row per
        period and key, periods oldest first, keys in attrs["keys"] order in every period
        (zeros included). period_start is the period's calendar start (the day; the Monday of
        an ISO week; the 1st of a month); first_day..last_day are its days inside the range
        (the first and last period may be partial), all `datetime.date`. share_pct is of the
        period's downloads (0 when it has none). Each period equals the matching range query:
        modality_share, size_distribution, breakdown or top_n over first_day..last_day.

        `granularity`: "day", "week" (ISO 8601, Monday to Sunday) or "month". `dimension`:
          "modality"      keys: modality names, by downloads over the range descending;
          "size"          keys: the size classes of `boundaries` (as size_distribution's,
                          default 200M, 500M, 1B), smallest first, then "unknown";
          "task", "architecture", "library": keys as breakdown's, by downloads descending;
          "top-models", "top-authors": keys "top <n>" (the n models or authors with the most
                          downloads in each period, ranked within it) and "rest".
        `boundaries` is for "size" only and `n` (1..10,000) for the two concentrations.
        Leaving `start` or `end` out runs from the first / through the last day with data.
        At most 1,000 periods: a longer series raises InvalidArgumentError (field "range").

        attrs: granularity, dimension, keys (in order), boundaries (the ints used; [] unless
        "size"), n (None unless a concentration), modality, total_downloads (of the whole
        range), as_of ({"version", "time"}: the store versions the answer is exact at), start,
        end; a range without downloads gives no rows and attrs["data_span"] as the other
        queries do.
        """
        granularity_number = convert.choice_number(granularity, "granularity",
                                                   convert.GRANULARITIES)
        dimension_number = convert.choice_number(dimension, "dimension",
                                                 convert.TREND_DIMENSIONS)
        concentration = dimension in convert.CONCENTRATION_DIMENSIONS
        counts = convert.boundary_counts(boundaries)
        if counts and dimension != "size":
            raise ValueError(f"boundaries: only for dimension 'size', not {dimension!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n: expected a positive int, got {n!r}")
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        request = pb.TrendRequest(
            range=convert.date_range(start, end), granularity=granularity_number,
            dimension=dimension_number, boundaries=counts,
            n=n if concentration else 0, modality=convert.modality_number(modality))
        response = self._query("GetTrend", request, fresh)
        total = sum(period.total_downloads for period in response.periods)
        periods, empty = (list(response.periods), {}) if total > 0 else \
            ([], {"data_span": self.data_span()})
        days = [(convert.date_of(p.start), convert.date_of(p.first_day),
                 convert.date_of(p.last_day)) for p in periods]
        values = [(day, value) for day, period in zip(days, periods) for value in period.values]
        return _frame({
            "period_start": ([day[0] for day, _ in values], "object"),
            "first_day": ([day[1] for day, _ in values], "object"),
            "last_day": ([day[2] for day, _ in values], "object"),
            "key": ([value.key for _, value in values], "object"),
            "downloads": ([value.downloads for _, value in values], "int64"),
            "share_pct": ([value.share_pct for _, value in values], "float64"),
        }, {
            "granularity": convert.choice_name(response.granularity or granularity_number,
                                               convert.GRANULARITIES),
            "dimension": convert.choice_name(response.dimension or dimension_number,
                                             convert.TREND_DIMENSIONS),
            "keys": list(response.keys),
            "boundaries": list(response.boundaries),
            "n": n if concentration else None,
            "modality": modality,
            "total_downloads": total,
            "as_of": convert.as_of_dict(response.as_of),
            **_range_attrs(start, end),
            **empty,
        })

    def crosstab(self, rows: str, columns: str, start=None, end=None, *, boundaries=None,
                 modality=None, fresh: bool | None = None) -> pd.DataFrame:
        """Downloads of every pair of keys of two dimensions, in one call (GetCrossTab).

        `rows` and `columns` are two different dimensions of "modality", "size", "task",
        "architecture", "library" (keys as modality_share's names, size_distribution's
        labels then "unknown", and breakdown's keys). Columns [row, column, downloads,
        share_pct, row_share_pct]: one row per cell, zeros included, in the server's order
        (row keys in attrs["row_keys"] order, within each the column keys in
        attrs["column_keys"] order); share_pct is of all downloads, row_share_pct of the
        row's. `boundaries` (only with "size") as size_distribution's; `modality` filters.

        attrs: rows, columns, modality, boundaries (the ints used; [] without "size"),
        row_keys, column_keys, row_totals and column_totals ({key: downloads}, each equal to
        the one-dimension answer), total_downloads, as_of, start, end, first_day, last_day
        (see Client); a range without downloads gives no rows and attrs["data_span"] as the
        other queries do.
        """
        return _crosstab.crosstab(self, rows, columns, start, end, boundaries=boundaries,
                                  modality=modality, fresh=fresh)

    def export(self, start=None, end=None, *, modality=None, author: str | None = None,
               task: str | None = None, library: str | None = None, min_parameters=None,
               max_parameters=None, chunk_size: int | None = None,
               path: str | os.PathLike | None = None, format: str | None = None,
               progress=None, fresh: bool | None = None) -> pd.DataFrame | int:
        """Every model with downloads in the range (and the filters, as top_n's), in ranking
        order, streamed from one snapshot of the server (ExportModels) in chunks of
        `chunk_size` models (1..10,000; None: the server's 1,000).

        Without `path`: a DataFrame [rank, model_id, author, downloads, share_pct, modality,
        task, architecture, library, num_parameters (Int64, <NA> when unknown), size_class,
        catalogued]; attrs total_models, total_downloads, as_of, the filters, start, end (and
        data_span when empty). With `path`: writes CSV or JSON lines (`format` "csv" or
        "jsonl", else by the suffix .csv, .jsonl, .ndjson or .json) chunk by chunk to a
        temporary file beside it, renamed to `path` once complete (on any error no file is
        left), and returns the number of models written.

        `progress`: a callable(done, total) called after every chunk, or True for a progress
        line on stderr. The chunks are checked (one version, the same totals, contiguous
        ranks, as many models as announced); a stream that breaks that raises HubstatsError
        (INTERNAL). The call has no overall deadline; `timeout` bounds each wait for a chunk.
        """
        filters = dict(modality=modality, author=author, task=task, library=library,
                       min_parameters=min_parameters, max_parameters=max_parameters)
        return _export.export(self, start, end, filters=filters, chunk_size=chunk_size,
                              path=path, format=format, progress=progress, fresh=fresh)

    def totals(self, start=None, end=None, *, fresh: bool | None = None) -> dict:
        """Population counts: {total_downloads, models_with_downloads, authors_with_downloads,
        catalogued_models (not limited by the range), first_day, last_day} with the days as
        `datetime.date`, or None when the range has no downloads."""
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        response = self._query("GetTotals", pb.TotalsRequest(range=convert.date_range(start, end)),
                               fresh)
        return {
            "total_downloads": response.total_downloads,
            "models_with_downloads": response.models_with_downloads,
            "authors_with_downloads": response.authors_with_downloads,
            "catalogued_models": response.catalogued_models,
            "first_day": convert.date_of(response.first_day) if response.HasField("first_day")
                         else None,
            "last_day": convert.date_of(response.last_day) if response.HasField("last_day")
                        else None,
        }

    def data_span(self, start=None, end=None, *,
                  fresh: bool | None = None) -> tuple[dt.date, dt.date] | None:
        """The first and last day with downloads in the range (all time by default), or None
        when it has none. Charts state it in their subtitles."""
        totals = self.totals(start, end, fresh=fresh)
        return (totals["first_day"], totals["last_day"]) if totals["first_day"] else None

    def model(self, model_id: str, start=None, end=None, *, fresh: bool | None = None) -> dict:
        """Statistics of one model. Raises NotFoundError when it has neither downloads nor a
        catalog record.

        Returns a dict:
          model_id, author (str); catalogued (bool);
          record: the catalog record as a dict (model_id, pipeline_tag, modality,
            num_parameters, architecture, library_name; unset fields None), or None;
          modality: the resolved modality name, e.g. "nlp" ("unknown" without a record);
          size_class: fine class such as "100M-200M", or "unknown";
          downloads_all_time, downloads_in_range (int);
          rank_all_time, rank_in_range: rank among all models from 1, None without downloads;
          revisions: {revision: downloads in the range}, by downloads descending;
          days: [(datetime.date, downloads), ...] for days with downloads, oldest first;
          months: the same for months past the server's retention (--retention-days), whose
            days are folded into one total (the date is the month's first day); days and
            months add up to downloads_in_range.
        """
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        response = self._query("GetModelStats", pb.ModelStatsRequest(
            model_id=model_id, range=convert.date_range(start, end)), fresh)
        return {
            "model_id": response.model_id,
            "author": response.author,
            "catalogued": response.catalogued,
            "record": convert.record_dict(response.record) if response.HasField("record")
                      else None,
            "modality": response.modality_name,
            "size_class": response.size_class,
            "downloads_all_time": response.downloads_all_time,
            "downloads_in_range": response.downloads_in_range,
            "rank_all_time": response.rank_all_time or None,
            "rank_in_range": response.rank_in_range or None,
            "revisions": {r.revision: r.downloads for r in response.revisions},
            "days": [(convert.date_of(d.day), d.downloads) for d in response.days],
            "months": [(convert.date_of(m.day), m.downloads) for m in response.months],
        }

    # -----------------------------------------------------------------------------------------
    # Ingestion
    # -----------------------------------------------------------------------------------------

    def ingest(self, events: Iterable[dict] | pd.DataFrame, batch_size: int = 1000, *,
               batch_bytes: int = DEFAULT_BATCH_BYTES, producer_id: str | None = None,
               retry_for: float | None = None, progress: Progress | None = None) -> dict:
        """Streams download events to the server(s), exactly once.

        `events` is any iterable of dicts (a generator is read lazily, batch by batch, so
        inputs of any length need bounded memory) or a DataFrame with those columns:
          model_id (str, required), timestamp (datetime [naive = UTC], date [midnight UTC],
          an RFC 3339 string or "YYYY-MM-DD" date, or Unix seconds; None = the server's
          receive time), count (int >= 1; None = 1), revision (str or None).
        Any other key is rejected (the item, naming the key); a DataFrame with another column
        raises ValueError. `ingest_file` reads files of events.

        Delivery: the input is cut into batches of at most `batch_size` items whose request
        takes at most `batch_bytes` bytes (default 4 MiB, at most MAX_BATCH_BYTES: the
        server's default message limit, --max-message-mb 16; an event too large for any batch is rejected), the n-th batch carrying
        sequence n under `producer_id`. The cut depends only on the input and these two
        settings. The server acknowledges a batch once it is committed, and recognises a
        batch it committed before (the answer is marked duplicate and nothing is counted
        again). At most MAX_BATCHES_IN_FLIGHT batches are read and not yet acknowledged. When
        a stream fails with a retryable status (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED,
        CANCELLED, INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED) the client reconnects after a
        jittered exponential backoff (0.1 s .. 5 s), to the next of the client's targets, on a
        new channel, and re-sends every unacknowledged batch in order. It gives up after
        `retry_for` seconds without an acknowledgement. With `retry_for` None (the default)
        it retries for DEFAULT_RETRY_FOR (5 minutes) once some server has answered, but fails
        at once (UnavailableError, after trying each target) while none ever has: a wrong
        address does not wait for minutes; give `retry_for` to wait for a server that is
        starting. Any other status (e.g. FailedPreconditionError) raises at once, and so does
        an answer that does not echo the oldest unacknowledged batch's sequence (a server too
        old for exactly-once ingestion: re-sending to it would count batches twice).

        `producer_id` (1-128 characters of [A-Za-z0-9._:-]): None makes one unique to this
        call. Give a job a fixed id to make re-running it safe: the same id with the same
        input, batch_size and batch_bytes re-sends batches that were committed as duplicates.
        The same id with another input or batch size raises FailedPreconditionError (field
        "sequence").

        Returns {accepted, duplicates, rejected, accepted_downloads, duplicate_downloads,
        accepted_all_time_only, errors, producer_id, reconnects}:
          accepted: valid events of batches counted by this call;
          duplicates: valid events of batches the server had committed before (by an earlier
            run with this producer id, or by this call just before a connection failure
            hid the acknowledgement); they are counted once, not again;
          rejected: invalid events; accepted + duplicates + rejected == items in the input;
          accepted_downloads / duplicate_downloads: the sums of their counts;
          accepted_all_time_only: of `accepted`, late events a server started with
            --late-events all-time counted into all time only (in no day, range or trend);
          errors: {index, field, reason} for each rejected event, `index` being its position
            in the whole input (and `line`, its line, for ingest_file). Events the client
            cannot encode (unknown key, a timestamp that is no time, ...) are rejected like
            the server's rejections;
          producer_id: the id used (to re-run the job after a failure);
          reconnects: how many times a stream was re-opened.

        `progress`, if given, is called after each acknowledged batch with a dict
        {processed, accepted, rejected, accepted_downloads} of the input so far.

        If the ingest fails, the raised HubstatsError has the summary of the batches
        acknowledged before the failure as `partial_summary` (those were counted, and its
        `producer_id` lets a re-run skip them). An exception raised while reading `events`
        ends the ingest: the complete batches read before it are still sent, acknowledged and
        counted (the partly read batch is dropped), then the exception propagates.
        """
        _check_batch_size(batch_size)
        _check_batch_bytes(batch_bytes)
        if producer_id is None:
            producer_id = new_producer_id()
        _check_producer_id(producer_id)
        if retry_for is not None and (isinstance(retry_for, bool)
                                      or not isinstance(retry_for, (int, float))
                                      or not retry_for >= 0):
            raise ValueError(f"retry_for must be a number of seconds >= 0 or None, "
                             f"got {retry_for!r}")
        if self._closed:
            raise ValueError("the client is closed")
        items = _items(events, convert.EVENT_FIELDS)
        try:
            summary = Ingestion(self.targets, self._preferred, items, batch_size, batch_bytes,
                                producer_id, None if retry_for is None else float(retry_for),
                                progress, self._new_channel).run()
        except HubstatsError as error:
            if error.partial_summary:
                self._wrote(error.partial_summary.get("version", ""))
            raise
        self._wrote(summary["version"])
        return summary

    def ingest_file(self, path: str | os.PathLike, *, format: str | None = None,
                    **options) -> dict:
        """Streams the download events of a file, exactly once: `ingest` on its items.

        The file is JSON lines (.jsonl, .ndjson, .json) or CSV with a header row (.csv), or as
        `format` ("jsonl" or "csv") says, read by the same rules as the CLI's `hubstats
        ingest` (docs/API.md, "Input files"): keys model_id, timestamp, count, revision; an
        unknown key rejects its line; in CSV a numeric timestamp cell is Unix seconds. A line
        that cannot be read is rejected like an invalid event. `options` are ingest's
        (batch_size, batch_bytes, producer_id, retry_for, progress). Every error of the
        summary also has the event's `line`. Raises ValueError for an unusable CSV header
        ("line 1: unknown column ...") before anything is sent.
        """
        batch_bytes = options.get("batch_bytes", DEFAULT_BATCH_BYTES)
        _check_batch_bytes(batch_bytes)
        file_format = choose_format(path, format)
        with open(path, "rb") as stream:
            reader = FileReader(stream, "events", file_format, batch_bytes)
            return self.ingest(iter(reader), **options)

    def upsert_models(self, records: Iterable[dict] | pd.DataFrame,
                      batch_size: int = 1000, *, batch_bytes: int = DEFAULT_BATCH_BYTES) -> dict:
        """Inserts or replaces catalog records, in calls of at most `batch_size` records and
        `batch_bytes` bytes.

        `records` is an iterable of dicts (read lazily) or a DataFrame with the keys:
          model_id (str, required; also "modelId"), pipeline_tag (str or None),
          modality (a name such as "nlp", "computer_vision" or the aliases "cv", "rl", in any
            letter case, with '-' or ' ' for '_'; None to derive it from pipeline_tag),
          num_parameters (int, integral float or "7B"-style string; None = unknown),
          architecture ("encoder", "decoder", "encoder-decoder", "other" or None),
          library_name (str or None; also "library").
        Any other key is rejected. Every record replaces the model's whole record; history
        moves with the new classification. `upsert_models_file` reads files of records.

        Returns {accepted, rejected, reclassified, errors}, errors listing {index, field, reason}
        with `index` the record's position in the whole input (and `line` for
        upsert_models_file). A failing call raises a HubstatsError whose `partial_summary`
        covers the batches written before it.
        """
        _check_batch_size(batch_size)
        _check_batch_bytes(batch_bytes)
        summary = {"accepted": 0, "rejected": 0, "reclassified": 0, "errors": []}
        batcher = Batcher(_items(records, convert.RECORD_FIELDS), convert.record_fields,
                           pb.ModelRecord, batch_size, batch_bytes, 0, "record")
        while True:
            batch, messages = batcher.next()
            if batch.size == 0:
                return summary
            try:
                response = self._call("ingest", "UpsertModels",
                                      pb.UpsertModelsRequest(models=messages))
            except HubstatsError as error:
                error.partial_summary = summary
                raise
            summary["accepted"] += response.accepted
            batch.add_rejections(summary, response)
            summary["reclassified"] += response.reclassified
            self._wrote(response.version)

    def upsert_models_file(self, path: str | os.PathLike, *, format: str | None = None,
                           batch_size: int = 1000,
                           batch_bytes: int = DEFAULT_BATCH_BYTES) -> dict:
        """Upserts the catalog records of a file (JSON lines or CSV, as for ingest_file; the
        keys of upsert_models): the CLI's `hubstats catalog`. Every error of the summary also
        has the record's `line`. Raises ValueError for an unusable CSV header."""
        _check_batch_bytes(batch_bytes)
        file_format = choose_format(path, format)
        with open(path, "rb") as stream:
            reader = FileReader(stream, "catalog", file_format, batch_bytes)
            return self.upsert_models(iter(reader), batch_size, batch_bytes=batch_bytes)
