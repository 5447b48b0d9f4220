"""Exceptions raised for errors the hubstats server reports.

Every failed call raises a `HubstatsError` (or one of its subclasses) with the gRPC status code
and the server's message. INVALID_ARGUMENT carries the rich error details of the
`grpc-status-details-bin` trailer (a hubstats.v1.Status holding a google.rpc.BadRequest), decoded
into `InvalidArgumentError.field_violations` (FAILED_PRECONDITION likewise, into
`FailedPreconditionError.field_violations`).
"""

from __future__ import annotations

import grpc
from google.protobuf.message import DecodeError

from hubstats.v1 import error_details_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
BAD_REQUEST_TYPE_URL = "type.googleapis.com/google.rpc.BadRequest"


class HubstatsError(Exception):
    """A call failed. `code` is the grpc.StatusCode, `details` the server's message.

    When Client.ingest or Client.upsert_models fails midway, `partial_summary` is the summary
    of the batches the server answered (and wrote) before the failure; otherwise None.
    """

    partial_summary: dict | None = None

    def __init__(self, code: grpc.StatusCode, details: str):
        self.code = code
        self.details = details
        super().__init__(self._message())

    def _message(self) -> str:
        # Subclasses name the code already; the base class shows it.
        return self.details if type(self) is not HubstatsError else f"{self.code.name}: {self.details}"


class InvalidArgumentError(HubstatsError, ValueError):
    """INVALID_ARGUMENT: a request argument cannot be used.

    `field_violations` lists (field, description) pairs, e.g.
    ("boundaries[1]", "boundaries must be strictly increasing"); empty when the server sent none.
    """

    def __init__(self, code: grpc.StatusCode, details: str,
                 field_violations: list[tuple[str, str]] | None = None):
        self.field_violations = list(field_violations or [])
        super().__init__(code, details)

    def _message(self) -> str:
        if self.details or not self.field_violations:
            return self.details
        return "; ".join(f"{field}: {description}" for field, description in self.field_violations)


class UnauthenticatedError(HubstatsError, PermissionError):
    """UNAUTHENTICATED: the server wants a token and got none it knows (the client reads it
    from `token`, `token_file`, $HUBSTATS_TOKEN or $HUBSTATS_TOKEN_FILE)."""


class PermissionDeniedError(HubstatsError, PermissionError):
    """PERMISSION_DENIED: the token lacks the call's scope, or may not ingest as this
    producer id."""


class NotFoundError(HubstatsError, LookupError):
    """NOT_FOUND: e.g. a model with neither downloads nor a catalog record."""


class UnavailableError(HubstatsError):
    """UNAVAILABLE: the server or its store cannot be reached; retrying later may succeed."""


class FailedPreconditionError(HubstatsError):
    """FAILED_PRECONDITION: the request is well-formed but conflicts with stored state.

    Client.ingest raises it when a producer id's batches do not match what the server
    committed for it before: a sequence re-sent with other events (the same producer id with
    another input or batch size), or a sequence below the newest committed one that was never
    committed itself. `field` names the culprit ("sequence"), `field_violations` lists
    (field, description) pairs as for InvalidArgumentError.
    """

    def __init__(self, code: grpc.StatusCode, details: str,
                 field_violations: list[tuple[str, str]] | None = None):
        self.field_violations = list(field_violations or [])
        super().__init__(code, details)

    @property
    def field(self) -> str | None:
        """The first violation's field, e.g. "sequence", or None."""
        return self.field_violations[0][0] if self.field_violations else None


for _error in (HubstatsError, InvalidArgumentError, NotFoundError, UnavailableError,
               FailedPreconditionError):
    _error.__module__ = "hubstats"  # Tracebacks read "hubstats.InvalidArgumentError: ...".


def field_violations_of(error: grpc.Call) -> list[tuple[str, str]]:
    """Decodes the BadRequest field violations of a failed call's trailing metadata."""
    violations = []
    for key, value in error.trailing_metadata() or ():
        if key != STATUS_DETAILS_KEY:
            continue
        status = error_details_pb2.Status()
        try:
            status.ParseFromString(value)
        except DecodeError:
            continue
        for detail in status.details:
            if detail.type_url != BAD_REQUEST_TYPE_URL:
                continue
            bad_request = error_details_pb2.BadRequest()
            try:
                bad_request.ParseFromString(detail.value)
            except DecodeError:
                continue
            violations.extend((v.field, v.description) for v in bad_request.field_violations)
    return violations


def error_of(code: grpc.StatusCode, details: str,
             field_violations: list[tuple[str, str]] | None = None) -> HubstatsError:
    """The HubstatsError (subclass) for a status code and message."""
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgumentError(code, details, field_violations)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return FailedPreconditionError(code, details, field_violations)
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFoundError(code, details)
    if code == grpc.StatusCode.UNAVAILABLE:
        return UnavailableError(code, details)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return UnauthenticatedError(code, details)
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDeniedError(code, details)
    return HubstatsError(code, details)


def from_rpc_error(error: grpc.RpcError) -> HubstatsError:
    """The HubstatsError for a failed gRPC call."""
    code = error.code()
    violations = (field_violations_of(error)
                  if code in (grpc.StatusCode.INVALID_ARGUMENT,
                              grpc.StatusCode.FAILED_PRECONDITION) else None)
    return error_of(code, error.details() or "", violations)
