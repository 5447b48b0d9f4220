"""hubstats: Python client of the hubstats gRPC service (exact model-hub download statistics).

    from hubstats import Client
    with Client("localhost:50051") as client:
        print(client.modality_share())

See README.md for the API; `hubstats.charts` draws the report's figures and
`hubstats.trend_chart` their trends.
"""

from hubstats.client import MAX_BATCH_SIZE, MAX_BATCHES_IN_FLIGHT, Client
from hubstats.errors import (FailedPreconditionError, HubstatsError, InvalidArgumentError,
                             NotFoundError, PermissionDeniedError, UnauthenticatedError,
                             UnavailableError)
from hubstats._convert import ARCHITECTURE_NAMES, MODALITY_NAMES

__all__ = [
    "ARCHITECTURE_NAMES",
    "Client",
    "FailedPreconditionError",
    "HubstatsError",
    "InvalidArgumentError",
    "MAX_BATCH_SIZE",
    "MAX_BATCHES_IN_FLIGHT",
    "MODALITY_NAMES",
    "NotFoundError",
    "PermissionDeniedError",
    "UnauthenticatedError",
    "UnavailableError",
]
