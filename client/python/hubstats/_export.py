"""Client.export: every model with downloads in a range (QueryService.ExportModels, a
server-streaming call), as a DataFrame or written chunk by chunk to a CSV or JSON-lines file.

Every chunk is checked against the first before its models are used: the same as_of and
totals (an export is one snapshot), ranks contiguous from 1, and at the end as many models (and
downloads) as the chunks announced. A stream that breaks any of these raises a HubstatsError
(INTERNAL) and, when writing a file, leaves no file behind.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import grpc
import pandas as pd

from hubstats import _convert as convert
from hubstats._input import choose_format
from hubstats.errors import error_of, from_rpc_error
from hubstats.v1 import hubstats_pb2 as pb

if TYPE_CHECKING:
    from hubstats.client import Client

#: The columns of an export, in file and DataFrame order, with their DataFrame dtypes.
COLUMNS = {"rank": "int64", "model_id": "object", "author": "object", "downloads": "int64",
           "share_pct": "float64", "modality": "object", "task": "object",
           "architecture": "object", "library": "object", "num_parameters": "Int64",
           "size_class": "object", "catalogued": "bool"}
Progress = Callable[[int, int], Any]


def file_format(path: str | os.PathLike, format: str | None) -> str:
    """"csv" or "jsonl": `format` when given, else by the extension of `path`, by the same rules
    as input files (and the CLI's `export --out`): .jsonl, .ndjson, .json or .csv."""
    return choose_format(path, format)


def _progress_function(progress: Progress | bool | None) -> Progress | None:
    if progress is None or progress is False:
        return None
    if progress is True:
        return _print_progress
    if not callable(progress):
        raise ValueError(f"progress: expected a callable(done, total) or True, got {progress!r}")
    return progress


def _print_progress(done: int, total: int) -> None:
    """One line on stderr, rewritten after every chunk; ended once the export is complete."""
    percent = 100 * done / total if total else 100.0
    end = "\n" if done >= total else ""
    print(f"\rexported {done:,} of {total:,} models ({percent:.1f}%)", end=end, file=sys.stderr,
          flush=True)


def _inconsistent(reason: str):
    return error_of(grpc.StatusCode.INTERNAL, f"inconsistent export stream: {reason}")


def checked_chunks(chunks: Iterable[pb.ExportChunk]) -> Iterator[pb.ExportChunk]:
    """The chunks of one export, each checked against the first: the same as_of, total_models
    and total_downloads, ranks continuing from the chunk before (from 1); after the last, as
    many models and downloads as announced. HubstatsError (INTERNAL) otherwise."""
    first = None
    done = downloads = 0
    for chunk in chunks:
        if first is None:
            first = chunk
        elif chunk.as_of != first.as_of:
            raise _inconsistent(f"a chunk is at version {chunk.as_of.version!r}, the first at "
                                f"{first.as_of.version!r}")
        elif (chunk.total_models, chunk.total_downloads) != (first.total_models,
                                                              first.total_downloads):
            raise _inconsistent(
                f"a chunk announces {chunk.total_models} models with {chunk.total_downloads} "
                f"downloads, the first {first.total_models} with {first.total_downloads}")
        for model in chunk.models:
            done += 1
            if model.rank != done:
                raise _inconsistent(f"model {model.model_id!r} has rank {model.rank} where "
                                    f"rank {done} was due")
            downloads += model.downloads
        if done > first.total_models:
            raise _inconsistent(f"{done} models sent, {first.total_models} announced")
        yield chunk
    if first is None:
        raise _inconsistent("the stream ended without a chunk")
    if (done, downloads) != (first.total_models, first.total_downloads):
        raise _inconsistent(f"{done} models with {downloads} downloads sent, "
                            f"{first.total_models} with {first.total_downloads} announced")


def _values(model: pb.ExportedModel) -> tuple:
    """A model's values in COLUMNS order; num_parameters None when unknown."""
    return (model.rank, model.model_id, model.author, model.downloads, model.share_pct,
            model.modality, model.task, model.architecture, model.library,
            model.num_parameters if model.HasField("num_parameters") else None,
            model.size_class, model.catalogued)


class _Stream:
    """One ExportModels call: its chunks, each awaited for at most `timeout` seconds (the
    call is cancelled when the server sends nothing for that long), from the first target
    that answers (a target UNAVAILABLE before its first chunk: the next)."""

    def __init__(self, client: Client, request: pb.ExportRequest):
        self.timeout = client.timeout
        self.call = None
        self.timed_out = False
        count = len(client._stubs)
        first_target = client._preferred
        for attempt in range(count):
            index = (first_target + attempt) % count
            self.call = client._stubs[index].query.ExportModels(request)
            try:
                self.first = self._next()
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNAVAILABLE and attempt + 1 < count:
                    continue
                raise self._error(error) from None
            client._preferred = index
            return

    def _cancel(self) -> None:
        self.timed_out = True
        self.call.cancel()

    def _next(self):
        timer = threading.Timer(self.timeout, self._cancel)
        timer.daemon = True
        timer.start()
        try:
            return next(self.call, None)
        finally:
            timer.cancel()

    def _error(self, error: grpc.RpcError):
        if self.timed_out:
            return error_of(grpc.StatusCode.DEADLINE_EXCEEDED,
                            f"the export sent nothing for {self.timeout} s")
        return from_rpc_error(error)

    def chunks(self) -> Iterator[pb.ExportChunk]:
        chunk = self.first
        while chunk is not None:
            yield chunk
            try:
                chunk = self._next()
            except grpc.RpcError as error:
                raise self._error(error) from None

    def close(self) -> None:
        self.call.cancel()  # No-op once the call has ended.


def export(client: Client, start, end, *, filters: dict, chunk_size: int | None,
           path: str | os.PathLike | None, format: str | None,
           progress: Progress | bool | None, fresh: bool | None) -> pd.DataFrame | int:
    """See Client.export."""
    if chunk_size is not None and (isinstance(chunk_size, bool) or
                                   not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size: expected a positive int (at most 10,000) or None, "
                         f"got {chunk_size!r}")
    chosen_format = file_format(path, format) if path is not None else None
    if path is None and format is not None:
        raise ValueError("format: only with a path")
    report = _progress_function(progress)
    start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
    request = pb.ExportRequest(range=convert.date_range(start, end), chunk_size=chunk_size or 0)
    attrs = convert.model_filters(request, **filters)
    if client._closed:
        raise ValueError("the client is closed")
    stream = _Stream(client, client._fresh(request, fresh))
    try:
        chunks = _reported(checked_chunks(stream.chunks()), report)
        if path is None:
            return _frame(client, chunks, stream.first, {**attrs,
                                                         **convert.range_attrs(start, end)})
        return _write(path, chosen_format, chunks)
    finally:
        stream.close()


def _reported(chunks: Iterator[pb.ExportChunk], report: Progress | None):
    done = 0
    for chunk in chunks:
        yield chunk
        done += len(chunk.models)
        if report is not None:
            report(done, chunk.total_models)


def _frame(client: Client, chunks, first: pb.ExportChunk, attrs: dict) -> pd.DataFrame:
    columns = {name: [] for name in COLUMNS}
    appenders = [column.append for column in columns.values()]
    for chunk in chunks:
        for model in chunk.models:
            for append, value in zip(appenders, _values(model)):
                append(value)
    empty = {} if first.total_downloads > 0 else {"data_span": client.data_span()}
    return convert.frame({name: (values, COLUMNS[name]) for name, values in columns.items()}, {
        "total_models": first.total_models,
        "total_downloads": first.total_downloads,
        "as_of": convert.as_of_dict(first.as_of),
        **attrs,
        **empty,
    })


def _text_cell(value) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _write(path: str | os.PathLike, chosen_format: str, chunks) -> int:
    """Writes the models to a temporary file beside `path`, then renames it to `path`; on
    any error the temporary file is removed and `path` is left as it was."""
    target = Path(path)
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", dir=target.parent or ".",
        prefix=f".{target.name}.", suffix=".tmp", delete=False)
    written = 0
    try:
        with handle:
            if chosen_format == "csv":
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(COLUMNS)
                for chunk in chunks:
                    writer.writerows([_text_cell(v) for v in _values(model)]
                                     for model in chunk.models)
                    written += len(chunk.models)
            else:
                names = list(COLUMNS)
                for chunk in chunks:
                    handle.writelines(
                        json.dumps(dict(zip(names, _values(model))), ensure_ascii=False) + "\n"
                        for model in chunk.models)
                    written += len(chunk.models)
        os.replace(handle.name, target)
    except BaseException:
        try:
            os.unlink(handle.name)
        except FileNotFoundError:
            pass
        raise
    return written
