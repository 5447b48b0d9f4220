"""Client.crosstab: the downloads of every pair of keys of two dimensions (QueryService.GetCrossTab)
as a tidy DataFrame, one row per cell."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from hubstats import _convert as convert
from hubstats.v1 import hubstats_pb2 as pb

if TYPE_CHECKING:
    from hubstats.client import Client

#: The dimensions a cross-tab takes, by name, in the order errors list them.
DIMENSIONS = {"modality": pb.DIMENSION_MODALITY, "size": pb.DIMENSION_SIZE,
              "task": pb.DIMENSION_TASK, "architecture": pb.DIMENSION_ARCHITECTURE,
              "library": pb.DIMENSION_LIBRARY}
COLUMNS = {"row": "object", "column": "object", "downloads": "int64", "share_pct": "float64",
           "row_share_pct": "float64"}


def crosstab(client: Client, rows: str, columns: str, start, end, *, boundaries,
             modality, fresh: bool | None) -> pd.DataFrame:
    """See Client.crosstab."""
    rows_number = convert.choice_number(rows, "rows", DIMENSIONS)
    columns_number = convert.choice_number(columns, "columns", DIMENSIONS)
    if rows == columns:
        raise ValueError(f"columns: must be another dimension than rows, got {columns!r} twice")
    counts = convert.boundary_counts(boundaries)
    if counts and "size" not in (rows, columns):
        raise ValueError(f"boundaries: only when rows or columns is 'size', not "
                         f"{rows!r} x {columns!r}")
    start, end = convert.to_day(start, "start"), convert.to_day(end, "end")
    request = pb.CrossTabRequest(range=convert.date_range(start, end), rows=rows_number,
                                 columns=columns_number, boundaries=counts,
                                 modality=convert.modality_number(modality))
    response = client._query("GetCrossTab", request, fresh)
    # As every query: the days with data (first_day, last_day), or without downloads no rows
    # and the data's span.
    days = client._span_attrs(response.total_downloads, start, end, fresh)
    cells = list(response.cells) if response.total_downloads > 0 else []
    return convert.frame({
        "row": ([cell.row for cell in cells], COLUMNS["row"]),
        "column": ([cell.column for cell in cells], COLUMNS["column"]),
        "downloads": ([cell.downloads for cell in cells], COLUMNS["downloads"]),
        "share_pct": ([cell.share_pct for cell in cells], COLUMNS["share_pct"]),
        "row_share_pct": ([cell.row_share_pct for cell in cells], COLUMNS["row_share_pct"]),
    }, {
        "rows": rows,
        "columns": columns,
        "modality": modality,
        "boundaries": list(response.boundaries),
        "row_keys": [row.key for row in response.rows],
        "column_keys": [column.key for column in response.columns],
        "row_totals": {row.key: row.downloads for row in response.rows},
        "column_totals": {column.key: column.downloads for column in response.columns},
        "total_downloads": response.total_downloads,
        "as_of": convert.as_of_dict(response.as_of),
        **convert.range_attrs(start, end),
        **days,
    })
