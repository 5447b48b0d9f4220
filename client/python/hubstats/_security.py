"""How a client reaches the server: TLS (optionally mutual) and the bearer token.

Every setting falls back to the environment variable the C++ tools read too:

    tls          HUBSTATS_TLS (1/true)     TLS, verifying the server with the system's CAs
    ca_file      HUBSTATS_CA_FILE          TLS, verifying the server with these CAs
    cert_file    HUBSTATS_CERT_FILE        client certificate (mutual TLS) ...
    key_file     HUBSTATS_KEY_FILE         ... and its key
    server_name  HUBSTATS_TLS_SERVER_NAME  name the server's certificate must hold
    token_file   HUBSTATS_TOKEN_FILE       the bearer token, in a file
    token        HUBSTATS_TOKEN            the bearer token itself

The token goes out as `authorization: Bearer <token>` metadata on every call, by a channel
interceptor (gRPC's call credentials refuse plaintext channels, which loopback servers use).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import grpc

_TRUE = {"1", "true", "yes", "on"}


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise ValueError(f"{what}: cannot read {path}: {error.strerror}") from None


@dataclass(frozen=True)
class ChannelSecurity:
    """TLS material and the token; plaintext without a token when left empty."""
    tls: bool = False
    ca_pem: bytes | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = None
    server_name: str | None = None
    token: str | None = None

    @classmethod
    def from_settings(cls, *, tls: bool | None = None, ca_file: str | None = None,
                      cert_file: str | None = None, key_file: str | None = None,
                      server_name: str | None = None, token: str | None = None,
                      token_file: str | None = None) -> ChannelSecurity:
        """Arguments given win over the environment; ValueError for unusable files."""
        env = os.environ.get
        ca_file = ca_file or env("HUBSTATS_CA_FILE")
        cert_file = cert_file or env("HUBSTATS_CERT_FILE")
        key_file = key_file or env("HUBSTATS_KEY_FILE")
        if bool(cert_file) != bool(key_file):
            raise ValueError("a client certificate needs its key: give both cert_file and "
                             "key_file (or HUBSTATS_CERT_FILE and HUBSTATS_KEY_FILE)")
        if tls is None:
            tls = env("HUBSTATS_TLS", "").strip().lower() in _TRUE
        tls = bool(tls or ca_file or cert_file)
        if token is None:
            token_file = token_file or env("HUBSTATS_TOKEN_FILE")
            if token_file:
                token = _read(token_file, "token_file").decode("utf-8").strip()
                if not token:
                    raise ValueError(f"token_file: {token_file} is empty")
            else:
                token = (env("HUBSTATS_TOKEN") or "").strip() or None
        return cls(tls=tls,
                   ca_pem=_read(ca_file, "ca_file") if ca_file else None,
                   cert_pem=_read(cert_file, "cert_file") if cert_file else None,
                   key_pem=_read(key_file, "key_file") if key_file else None,
                   server_name=server_name or env("HUBSTATS_TLS_SERVER_NAME") or None,
                   token=token)

    def channel(self, target: str, options: list) -> grpc.Channel:
        """A channel to `target` with these settings and `options`."""
        options = list(options)
        if self.tls:
            if self.server_name:
                options.append(("grpc.ssl_target_name_override", self.server_name))
            credentials = grpc.ssl_channel_credentials(
                root_certificates=self.ca_pem, private_key=self.key_pem,
                certificate_chain=self.cert_pem)
            channel = grpc.secure_channel(target, credentials, options=options)
        else:
            channel = grpc.insecure_channel(target, options=options)
        if self.token:
            channel = grpc.intercept_channel(channel, _BearerToken(self.token))
        return channel


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, details: grpc.ClientCallDetails, metadata):
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = details.wait_for_ready
        self.compression = getattr(details, "compression", None)


class _BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds `authorization: Bearer <token>` to every call."""

    def __init__(self, token: str):
        self._header = ("authorization", f"Bearer {token}")

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        return _CallDetails(details, list(details.metadata or ()) + [self._header])

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)
