"""`Client`: the Python API of a hubstats server.

Queries return pandas DataFrames (or dicts) of exact counts; shares are percentages (0..100)
computed by the server. Ingestion streams batches without holding the caller's whole input.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import grpc
import pandas as pd

from hubstats import _convert as convert
from hubstats.errors import HubstatsError, from_rpc_error
from hubstats.v1 import hubstats_pb2 as pb
from hubstats.v1 import hubstats_pb2_grpc as pb_grpc

#: The most events or records the server takes in one request.
MAX_BATCH_SIZE = 100_000
#: Ingest batches read from the caller's input and not yet answered, at most.
MAX_BATCHES_IN_FLIGHT = 8
#: Large enough for a response listing a rejection for each of MAX_BATCH_SIZE items.
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024

_RANK_BY = {"model": pb.RANK_BY_MODEL, "author": pb.RANK_BY_AUTHOR}
_DIMENSIONS = {"task": pb.DIMENSION_TASK, "architecture": pb.DIMENSION_ARCHITECTURE,
               "library": pb.DIMENSION_LIBRARY}

Progress = Callable[[dict], Any]


def _frame(columns: dict[str, tuple[list, str]], attrs: dict) -> pd.DataFrame:
    """A DataFrame with the given {name: (values, dtype)} columns and attrs."""
    frame = pd.DataFrame({name: pd.Series(values, dtype=dtype)
                          for name, (values, dtype) in columns.items()})
    frame.attrs.update(attrs)
    return frame


def _range_attrs(start: dt.date | None, end: dt.date | None) -> dict:
    return {"start": start, "end": end}


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) \
            or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be an int between 1 and {MAX_BATCH_SIZE}, "
                         f"got {batch_size!r}")


def _items(data: Iterable[dict] | pd.DataFrame, allowed: tuple[str, ...]) -> Iterator[Any]:
    """The caller's items one by one; DataFrame rows become dicts of their columns."""
    if not isinstance(data, pd.DataFrame):
        return iter(data)
    unknown = [str(column) for column in data.columns if column not in allowed]
    if unknown:
        raise ValueError(f"unknown columns {', '.join(unknown)}; expected {', '.join(allowed)}")
    columns = list(data.columns)
    return (dict(zip(columns, row)) for row in data.itertuples(index=False, name=None))


def _batches(items: Iterator[Any], size: int) -> Iterator[list]:
    while batch := list(itertools.islice(items, size)):
        yield batch


def _error(index: int, field: str, reason: str) -> dict:
    return {"index": index, "field": field, "reason": reason}


@dataclass
class _SentBatch:
    """An ingest or upsert batch: where its items are in the caller's input."""

    first: int                  # Input position of the batch's first item.
    size: int                   # Items of the input in the batch, sent or not.
    sent: list[int] = field(default_factory=list)     # Input position of each item sent.
    errors: list[dict] = field(default_factory=list)  # Items the client could not encode.

    def merge(self, summary: dict, response) -> None:
        """Adds the server's answer (IngestResponse or UpsertModelsResponse) to `summary`."""
        summary["accepted"] += response.accepted
        summary["rejected"] += response.rejected + len(self.errors)
        server_errors = [_error(self.sent[r.index], r.field, r.reason) for r in response.rejections]
        summary["errors"].extend(sorted(self.errors + server_errors, key=lambda e: e["index"]))


def _encode(items: list, first: int, to_fields: Callable[[Any], dict],
            message: Callable[..., Any]) -> tuple[_SentBatch, list]:
    """Encodes a batch of items; items that cannot be encoded become client-side rejections."""
    batch = _SentBatch(first, len(items))
    messages = []
    for offset, item in enumerate(items):
        try:
            messages.append(message(**to_fields(item)))
        except convert.ItemError as error:
            batch.errors.append(_error(first + offset, error.field, error.reason))
        except (ValueError, TypeError) as error:  # protobuf refused a value, e.g. bad UTF-8.
            batch.errors.append(_error(first + offset, "", str(error)))
        else:
            batch.sent.append(first + offset)
    return batch, messages


class Client:
    """A connection to a hubstats server.

    `target` is "host:port". `timeout` (seconds) bounds every query and upsert call; an ingest
    stream has no overall deadline, because it lasts as long as the caller's input.
    Use as a context manager or call `close()`.

    Errors reported by the server raise `hubstats.HubstatsError` subclasses
    (InvalidArgumentError, NotFoundError, UnavailableError). Arguments the client can check
    cheaply (dates, modality names, boundaries, `by`) raise ValueError before any call.
    Every query takes `start`/`end` (inclusive UTC days: `datetime.date` or "YYYY-MM-DD");
    leaving one out runs from the first / through the last day with data.
    """

    def __init__(self, target: str = "localhost:50051", *, timeout: float = 10.0):
        self.target = target
        self.timeout = timeout
        self._channel = grpc.insecure_channel(target, options=[
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
        ])
        self._ingest = pb_grpc.IngestServiceStub(self._channel)
        self._query = pb_grpc.QueryServiceStub(self._channel)

    def close(self) -> None:
        """Closes the channel; the client cannot be used afterwards."""
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.target!r}, timeout={self.timeout})"

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    # -----------------------------------------------------------------------------------------
    # Queries
    # -----------------------------------------------------------------------------------------

    def modality_share(self, start=None, end=None) -> pd.DataFrame:
        """Downloads per modality: columns [modality, downloads, share_pct].

        All nine modalities ("nlp", "computer_vision", ..., "other", "unknown"), by downloads
        descending. attrs: total_downloads, start, end.
        """
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        response = self._call(self._query.GetModalityShare,
                              pb.ModalityShareRequest(range=convert.date_range(start, end)))
        rows = response.rows
        return _frame({
            "modality": ([row.name for row in rows], "object"),
            "downloads": ([row.downloads for row in rows], "int64"),
            "share_pct": ([row.share_pct for row in rows], "float64"),
        }, {"total_downloads": response.total_downloads, **_range_attrs(start, end)})

    def size_distribution(self, boundaries=(200e6, 500e6, 1e9), start=None, end=None,
                          modality=None) -> pd.DataFrame:
        """Downloads of known-size models per size class.

        Columns [label, lower, upper, downloads, share_pct, share_of_known_pct, cumulative_pct],
        smallest class first; a class holds models with lower <= num_parameters < upper.
        `upper` has the nullable "Int64" dtype and is <NA> for the open-ended last class
        (">=1B"); `lower` is int64. share_pct is of all downloads, share_of_known_pct and
        cumulative_pct of known-size downloads.

        `boundaries` is a sequence of parameter counts on the 1-2-5 grid (1M ... 1T), strictly
        increasing: ints, integral floats (200e6) or strings ("200M", "1B"). A non-integral
        value raises ValueError; an off-grid one InvalidArgumentError from the server. None or
        an empty sequence gives the server's default (200M, 500M, 1B).
        `modality` filters by modality name.

        attrs: total_downloads, known_downloads, unknown_downloads, unknown_share_pct,
        boundaries (the ints used), modality, start, end.
        """
        if boundaries is None:
            boundaries = ()
        if isinstance(boundaries, (str, int, float)):
            raise ValueError(f"boundaries: expected a sequence such as (200e6, 500e6, 1e9), "
                             f"got {boundaries!r}")
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        request = pb.SizeDistributionRequest(
            range=convert.date_range(start, end),
            boundaries=[convert.parameter_count(b, f"boundaries[{i}]")
                        for i, b in enumerate(boundaries)],
            modality=convert.modality_number(modality))
        response = self._call(self._query.GetSizeDistribution, request)
        rows = response.rows
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
        })

    def top_n(self, n: int = 50, by: str = "model", start=None, end=None,
              modality=None) -> pd.DataFrame:
        """The n models (by="model") or authors (by="author") with the most downloads.

        Columns [rank, id, downloads, share_pct, cumulative_pct]: ranked by downloads
        descending, ties by id; cumulative_pct is the share held by ranks 1..rank. Fewer than n
        rows when fewer have downloads. n is 1..10,000 (the server checks the upper limit).
        attrs: total_downloads, top_downloads, top_share_pct, by, modality, start, end.
        """
        if by not in _RANK_BY:
            raise ValueError(f"by: expected 'model' or 'author', got {by!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n: expected a positive int, got {n!r}")
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        request = pb.TopNRequest(range=convert.date_range(start, end), n=n, by=_RANK_BY[by],
                                 modality=convert.modality_number(modality))
        response = self._call(self._query.GetTopN, request)
        rows = response.rows
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
            "modality": modality,
            **_range_attrs(start, end),
        })

    def breakdown(self, by: str = "task", start=None, end=None, modality=None) -> pd.DataFrame:
        """Downloads per pipeline tag (by="task"), architecture or library.

        Columns [key, downloads, share_pct], downloads descending, ties by key. A key is
        "(none)" when catalog records leave the field empty and "unknown" for models without a
        catalog record. attrs: total_downloads, by, modality, start, end.
        """
        if by not in _DIMENSIONS:
            raise ValueError(f"by: expected one of {', '.join(_DIMENSIONS)}, got {by!r}")
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        request = pb.BreakdownRequest(range=convert.date_range(start, end),
                                      dimension=_DIMENSIONS[by],
                                      modality=convert.modality_number(modality))
        response = self._call(self._query.GetBreakdown, request)
        rows = response.rows
        return _frame({
            "key": ([row.key for row in rows], "object"),
            "downloads": ([row.downloads for row in rows], "int64"),
            "share_pct": ([row.share_pct for row in rows], "float64"),
        }, {"total_downloads": response.total_downloads, "by": by, "modality": modality,
            **_range_attrs(start, end)})

    def totals(self, start=None, end=None) -> dict:
        """Population counts: {total_downloads, models_with_downloads, authors_with_downloads,
        catalogued_models (not limited by the range), first_day, last_day} with the days as
        `datetime.date`, or None when the range has no downloads."""
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        response = self._call(self._query.GetTotals,
                              pb.TotalsRequest(range=convert.date_range(start, end)))
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

    def model(self, model_id: str, start=None, end=None) -> dict:
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
          days: [(datetime.date, downloads), ...] for days with downloads, oldest first.
        """
        start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
        response = self._call(self._query.GetModelStats, pb.ModelStatsRequest(
            model_id=model_id, range=convert.date_range(start, end)))
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
        }

    # -----------------------------------------------------------------------------------------
    # Ingestion
    # -----------------------------------------------------------------------------------------

    def ingest(self, events: Iterable[dict] | pd.DataFrame, batch_size: int = 1000, *,
               progress: Progress | None = None) -> dict:
        """Streams download events to the server over one StreamEvents call.

        `events` is any iterable of dicts (a generator is read lazily, batch by batch, so
        inputs of any length need bounded memory) or a DataFrame with those columns:
          model_id (str, required), timestamp (datetime [naive = UTC], date [midnight UTC],
          RFC 3339 string or Unix seconds; None = the server's receive time),
          count (int >= 1; None = 1), revision (str or None).

        Returns {accepted, rejected, accepted_downloads, errors}, where errors lists
        {index, field, reason} for each rejected event, `index` being its position in the whole
        input. Events the client cannot encode (unknown key, a timestamp that is no time, ...)
        are rejected like the server's rejections. Valid events are counted exactly once even
        when others in their batch are rejected.

        `progress`, if given, is called after each answered batch with a dict
        {processed, accepted, rejected, accepted_downloads} of the input so far.

        If the stream fails (e.g. UnavailableError), the raised HubstatsError has the summary
        of the batches answered before the failure as `partial_summary`; those were counted.
        An exception raised while reading `events` ends the stream: the complete batches read
        before it are still sent, answered and counted (the partly read batch is dropped), then
        the exception propagates.
        """
        _check_batch_size(batch_size)
        items = _items(events, convert.EVENT_FIELDS)
        summary = {"accepted": 0, "rejected": 0, "accepted_downloads": 0, "errors": []}
        in_flight: collections.deque[_SentBatch] = collections.deque()
        input_failure: list[BaseException] = []

        window = threading.Semaphore(MAX_BATCHES_IN_FLIGHT)
        finished = threading.Event()

        def requests() -> Iterator[pb.IngestRequest]:
            # Runs on gRPC's sending thread. Reading the input waits for a free slot in the
            # window, so at most MAX_BATCHES_IN_FLIGHT batches are read and not yet answered.
            first = 0
            try:
                while True:
                    while not window.acquire(timeout=0.1):
                        if finished.is_set():
                            return
                    chunk = list(itertools.islice(items, batch_size))
                    if not chunk:
                        return
                    batch, messages = _encode(chunk, first, convert.event_fields,
                                              pb.DownloadEvent)
                    first += batch.size
                    in_flight.append(batch)
                    yield pb.IngestRequest(events=messages)
            except Exception as error:  # The caller's iterable failed; see the docstring.
                input_failure.append(error)

        call = self._ingest.StreamEvents(requests())
        try:
            for response in call:
                window.release()
                batch = in_flight.popleft()
                batch.merge(summary, response)
                summary["accepted_downloads"] += response.accepted_downloads
                if progress is not None:
                    progress({"processed": batch.first + batch.size,
                              **{key: summary[key] for key in
                                 ("accepted", "rejected", "accepted_downloads")}})
        except grpc.RpcError as rpc_error:
            error = from_rpc_error(rpc_error)
            error.partial_summary = summary
            raise error from None
        finally:
            finished.set()
            call.cancel()  # No-op once the call has ended; stops the stream on an exception.
        if input_failure:
            raise input_failure[0]
        return summary

    def upsert_models(self, records: Iterable[dict] | pd.DataFrame,
                      batch_size: int = 1000) -> dict:
        """Inserts or replaces catalog records, `batch_size` per UpsertModels call.

        `records` is an iterable of dicts (read lazily) or a DataFrame with the keys:
          model_id (str, required), pipeline_tag (str or None),
          modality (short name such as "nlp" or "cv", or None to derive it from pipeline_tag),
          num_parameters (int, integral float or "7B"-style string; None = unknown),
          architecture ("encoder", "decoder", "encoder-decoder", "other" or None),
          library_name (str or None).
        Every record replaces the model's whole record; history moves with the new
        classification.

        Returns {accepted, rejected, reclassified, errors}, errors listing {index, field, reason}
        with `index` the record's position in the whole input. A failing call raises a
        HubstatsError whose `partial_summary` covers the batches written before it.
        """
        _check_batch_size(batch_size)
        summary = {"accepted": 0, "rejected": 0, "reclassified": 0, "errors": []}
        first = 0
        for chunk in _batches(_items(records, convert.RECORD_FIELDS), batch_size):
            batch, messages = _encode(chunk, first, convert.record_fields, pb.ModelRecord)
            first += batch.size
            try:
                response = self._call(self._ingest.UpsertModels,
                                      pb.UpsertModelsRequest(models=messages))
            except HubstatsError as error:
                error.partial_summary = summary
                raise
            batch.merge(summary, response)
            summary["reclassified"] += response.reclassified
        return summary
