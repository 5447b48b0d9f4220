"""The input rules' shared cases (tests/input_rules/cases.json, also run by the CLI's tests)
through the Python client's file reader and item conversion: every item read must be the
case's, in order."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from google.protobuf import timestamp_pb2

from hubstats import _convert as convert
from hubstats._input import DEFAULT_ITEM_BYTES, FileReader
from hubstats.v1 import hubstats_pb2 as pb

CASES = json.loads((Path(__file__).resolve().parents[3] / "tests" / "input_rules" /
                    "cases.json").read_text())["cases"]


def file_bytes(case: dict) -> bytes:
    text = case["text"] if "text" in case else "".join(line + "\n" for line in case["lines"])
    return text.encode("utf-8")


def expected_message(case: dict, fields: dict):
    if case["kind"] == "events":
        event = pb.DownloadEvent(model_id=fields["model_id"])
        if "timestamp" in fields:
            seconds, nanos = fields["timestamp"]
            event.timestamp.CopyFrom(timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos))
        if "count" in fields:
            event.count = fields["count"]
        event.revision = fields.get("revision", "")
        return event
    return pb.ModelRecord(
        model_id=fields["model_id"], pipeline_tag=fields.get("pipeline_tag", ""),
        library_name=fields.get("library_name", ""),
        modality=convert.modality_number(fields.get("modality")),
        num_parameters=fields.get("num_parameters", 0),
        architecture=convert.architecture_number(fields.get("architecture")))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_shared_case(case):
    stream = io.BytesIO(file_bytes(case))
    limit = case.get("max_item_bytes", DEFAULT_ITEM_BYTES)
    if "fatal" in case:
        with pytest.raises(ValueError) as caught:
            list(FileReader(stream, case["kind"], case["format"], limit))
        assert f"line {case['fatal']['line']}: " in str(caught.value)
        assert case["fatal"]["reason"] in str(caught.value)
        return
    to_fields, message = ((convert.event_fields, pb.DownloadEvent) if case["kind"] == "events"
                          else (convert.record_fields, pb.ModelRecord))
    expected = case["items"]
    read = list(FileReader(stream, case["kind"], case["format"], limit))
    assert [item.line for item in read] == [want["line"] for want in expected]
    for item, want in zip(read, expected):
        error = item.error
        got = None
        if error is None:
            try:
                got = message(**to_fields(item.fields))
            except convert.ItemError as raised:
                error = raised
        if "error" in want:
            assert error is not None, f"line {item.line}: expected an error, read {got}"
            assert want["error"]["reason"] in error.reason, f"line {item.line}"
            if "field" in want["error"]:
                assert error.field == want["error"]["field"], f"line {item.line}"
        else:
            assert error is None, f"line {item.line}: {error}"
            fields = want["event" if case["kind"] == "events" else "record"]
            assert got == expected_message(case, fields), f"line {item.line}: {got}"


def test_there_are_cases():
    assert len(CASES) > 10
