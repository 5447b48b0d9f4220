"""Files of download events or catalog records, as JSON lines or CSV, read by the input rules
the CLI applies too (client/cli/input.h, docs/API.md "Input files"); tests/input_rules holds
the cases both run.

    reader = FileReader(open(path, "rb"), "events", choose_format(path, None))
    for item in reader:            # FileItem(line, fields, error)
        ...

* JSON lines: one object per line; a number must be a JSON number and text a JSON string.
* CSV (RFC 4180) with a header row: every cell is text, read as its field's type (a numeric
  `count` or `timestamp` cell is a number). A malformed record loses only itself: a stray quote
  costs its line; an unclosed quote is reported where it opens and the lines after it are read
  again. A header with an unknown or repeated column, or without model_id, makes the file
  unreadable (ValueError "line N: ...").
* Keys are checked when the item is converted (hubstats._convert), as for dicts.
* Blank lines give no item; a line (CSV record) longer than `max_item_bytes` is an item with an
  error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from hubstats import _convert as convert

#: The default longest line, and the default batch_bytes of Client.ingest: far below the
#: server's message limit (--max-message-mb, 16 MiB by default).
DEFAULT_ITEM_BYTES = 4 << 20
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_KINDS = {"events": convert.EVENT_FIELDS, "catalog": convert.RECORD_FIELDS}


@dataclass
class FileItem:
    """One item of a file: the line it starts on and its fields (keys as written), or why the
    line cannot be read."""

    line: int
    fields: dict | None = None
    error: convert.ItemError | None = None


def choose_format(path, format: str | None) -> str:
    """"jsonl" or "csv": `format` ("jsonl", "json", "ndjson" or "csv") when given, else by the
    extension of `path`. ValueError otherwise."""
    if format:
        key = format.lower()
        if key in ("jsonl", "json", "ndjson"):
            return "jsonl"
        if key == "csv":
            return "csv"
        raise ValueError(f"format must be jsonl or csv, got {format!r}")
    name = str(path).lower()
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    raise ValueError(f"cannot tell the format of '{path}' from its extension (.jsonl, .ndjson, "
                     ".json or .csv); pass format='jsonl' or format='csv'")


def human_bytes(count: int) -> str:
    """"4 MiB", "512 KiB", "900 bytes", as the CLI prints sizes."""
    if count < 1024:
        return f"{count} bytes"
    mebibytes = count >= 1 << 20
    return f"{count / (1 << 20 if mebibytes else 1 << 10):.4g} {'MiB' if mebibytes else 'KiB'}"


@dataclass
class _Line:
    number: int
    text: str
    length: int  # Bytes of the whole line; text keeps at most the limit.


class _Lines:
    """Physical lines of a binary stream, each cut at `limit` bytes."""

    def __init__(self, stream: BinaryIO, limit: int):
        self.stream, self.limit, self.number = stream, limit, 0

    def next(self) -> _Line | None:
        raw = self.stream.readline(self.limit + 1)
        if not raw:
            return None
        self.number += 1
        length = len(raw)
        if raw.endswith(b"\n"):
            raw, length = raw[:-1], length - 1
        elif len(raw) > self.limit:  # Longer than the limit: skip the rest of it.
            while rest := self.stream.readline(1 << 20):
                if rest.endswith(b"\n"):
                    length += len(rest) - 1
                    break
                length += len(rest)
        if raw.endswith(b"\r") and len(raw) == length:
            raw, length = raw[:-1], length - 1
        if self.number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw, length = raw[3:], length - 3
        return _Line(self.number, raw[:self.limit].decode("utf-8", errors="surrogateescape"),
                     length)


def _too_long(line: _Line, limit: int, what: str = "item") -> str:
    return (f"the line is {human_bytes(line.length)}, more than the {human_bytes(limit)} one "
            f"{what} may hold")


class _Partial:
    """A CSV record being read: the state of its field and the cells so far."""

    def __init__(self):
        self.state, self.cell, self.cells = "field start", [], []

    def scan(self, text: str) -> str:
        """Scans one physical line; returns "complete", "continues" (a quoted field holds the
        line break), "stray quote" or "text after quote"."""
        i = 0
        while i < len(text):
            c = text[i]
            if self.state in ("field start", "unquoted"):
                if c == ",":
                    self.cells.append("".join(self.cell))
                    self.cell, self.state = [], "field start"
                elif c == '"' and self.state == "field start":
                    self.state = "quoted"
                elif c == '"':
                    return "stray quote"
                else:
                    self.cell.append(c)
                    self.state = "unquoted"
            elif self.state == "quoted":
                if c != '"':
                    self.cell.append(c)
                elif i + 1 < len(text) and text[i + 1] == '"':
                    self.cell.append('"')
                    i += 1
                else:
                    self.state = "after quote"
            else:  # after quote
                if c != ",":
                    return "text after quote"
                self.cells.append("".join(self.cell))
                self.cell, self.state = [], "field start"
            i += 1
        if self.state == "quoted":
            self.cell.append("\n")  # The quoted field goes on past the line break.
            return "continues"
        self.cells.append("".join(self.cell))
        return "complete"


class _CsvRecords:
    """CSV records with recovery (see the module docstring); the same reader as the CLI's
    (client/cli/csv.cc), so both report the same lines."""

    def __init__(self, lines: _Lines, limit: int):
        self.lines, self.limit = lines, limit
        self.pending: list[_Line] = []  # Lines to read again, next last (a stack).

    def _next_line(self) -> _Line | None:
        return self.pending.pop() if self.pending else self.lines.next()

    def _rescan(self, open_lines: list[_Line], reason: str) -> tuple[int, str]:
        """The multi-line record `open_lines` is malformed: reported at its opening line, the
        lines after that one are read again."""
        self.pending.extend(reversed(open_lines[1:]))
        return open_lines[0].number, reason

    def _malformed(self, open_lines: list[_Line], scan: str) -> tuple[int, str]:
        stray, line = scan == "stray quote", open_lines[-1].number
        if len(open_lines) > 1:
            return self._rescan(open_lines, (
                f"a quoted field opened on this line runs to line {line}, which has a quote "
                "inside an unquoted field (a stray quote?)" if stray else
                f"a quoted field opened on this line is closed on line {line} and followed by "
                "more text (a stray quote?)"))
        return line, ('a quote inside an unquoted field; quote the whole field and double the '
                      'quotes inside it ("text""gen")' if stray else
                      'text after the closing quote of a field (a quote inside a quoted field '
                      'is written twice: "")')

    def next(self) -> tuple[int, list | str] | None:
        """(line, cells) or (line, error reason); None at the end."""
        while (first := self._next_line()) is not None:
            if first.length > self.limit:
                return first.number, _too_long(first, self.limit, "record")
            if not first.text.strip():
                continue
            open_lines, size, partial = [first], first.length, _Partial()
            while (scan := partial.scan(open_lines[-1].text)) == "continues":
                following = self._next_line()
                if following is None:
                    return self._rescan(open_lines,
                                        "a quoted field opened on this line is never closed")
                size += following.length + 1
                open_lines.append(following)
                if size > self.limit:
                    return self._rescan(open_lines, (
                        f"a quoted field opened on this line runs past {human_bytes(self.limit)} "
                        "without being closed (a stray quote?)"))
            if scan == "complete":
                return open_lines[0].number, partial.cells
            return self._malformed(open_lines, scan)
        return None


def _cell_value(key: str, text: str):
    """A CSV cell as its field's type: numeric count and timestamp cells are numbers."""
    if key in ("count", "timestamp") and _NUMBER.fullmatch(text.strip()):
        number = float(text)
        return int(number) if number.is_integer() and abs(number) < 2**63 else number
    return text


class FileReader:
    """The items of a file of `kind` ("events" or "catalog") in `format` ("jsonl" or "csv").

    A CSV header is read at once: ValueError "line N: ..." when it cannot be used."""

    def __init__(self, stream: BinaryIO, kind: str, format: str,
                 max_item_bytes: int = DEFAULT_ITEM_BYTES):
        self.kind, self.format, self.limit = kind, format, max_item_bytes
        self.allowed = _KINDS[kind]
        self.lines = _Lines(stream, max_item_bytes)
        self.columns: list[str] = []
        if format == "csv":
            self.records = _CsvRecords(self.lines, max_item_bytes)
            self._read_header()

    def _read_header(self) -> None:
        header = self.records.next()
        if header is None:
            self.columns = None  # An empty file: no items.
            return
        line, cells = header
        if isinstance(cells, str):
            raise ValueError(f"line {line}: {cells}")
        aliases = convert.RECORD_ALIASES if self.kind == "catalog" else {}
        for cell in cells:
            column = cell.strip()
            name = aliases.get(column, column)
            if name not in self.allowed:
                raise ValueError(f"line {line}: unknown column '{column}'; expected "
                                 f"{convert.keys_text(self.allowed)}")
            if name in self.columns:
                raise ValueError(f"line {line}: column '{column}' is given twice")
            self.columns.append(name)
        if "model_id" not in self.columns:
            raise ValueError(f"line {line}: the header has no model_id column")

    def __iter__(self) -> Iterator[FileItem]:
        return self._csv_items() if self.format == "csv" else self._json_items()

    def _json_items(self) -> Iterator[FileItem]:
        while (line := self.lines.next()) is not None:
            if not line.text.strip():
                continue
            if line.length > self.limit:
                yield FileItem(line.number,
                               error=convert.ItemError("", _too_long(line, self.limit)))
                continue
            try:
                fields = json.loads(line.text)
            except ValueError as error:
                yield FileItem(line.number, error=convert.ItemError("", f"not a JSON object: "
                                                                       f"{error}"))
                continue
            if not isinstance(fields, dict):
                yield FileItem(line.number, error=convert.ItemError(
                    "", f"not a JSON object: a {type(fields).__name__}"))
                continue
            yield FileItem(line.number, fields)

    def _csv_items(self) -> Iterator[FileItem]:
        if self.columns is None:
            return
        while (record := self.records.next()) is not None:
            line, cells = record
            if isinstance(cells, str):
                yield FileItem(line, error=convert.ItemError("", cells))
            elif len(cells) != len(self.columns):
                yield FileItem(line, error=convert.ItemError(
                    "", f"has {len(cells)} cells, the header has {len(self.columns)}"))
            else:
                yield FileItem(line, {key: _cell_value(key, cell)
                                      for key, cell in zip(self.columns, cells) if cell})
