"""Size boundaries off the 1-2-5 grid (7B, 13B, 70B, and 3,141,592,653) in
Client.size_distribution and top_n's parameter range, against a real server (fixtures in
conftest).

The catalog puts models one below, exactly on and one above every boundary (a class holds
lower <= num_parameters < upper), and some far from all; the expected downloads are a pandas
recomputation from that catalog and the events sent here. test_node_client checks the Node
client's sizeDistribution against the same recomputation."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pandas as pd
import pytest

import hubstats
from test_client import ranked
from test_crosstab import size_labels

LLM_BOUNDARIES = [7_000_000_000, 13_000_000_000, 70_000_000_000]
ODD_BOUNDARY = 3_141_592_653
DAYS = [dt.date(2024, 7, 1) + dt.timedelta(days=i) for i in range(4)]


def off_grid_catalog() -> list[dict]:
    """Records of models around every boundary, and one of unknown size."""
    counts = {count + offset for count in [ODD_BOUNDARY, *LLM_BOUNDARIES] for offset in (-1, 0, 1)}
    counts |= {1, 350_000_000, 405_000_000_000}
    records = [{"model_id": f"org-{i % 4}/model-{count}", "pipeline_tag": "text-generation",
                "num_parameters": count} for i, count in enumerate(sorted(counts))]
    return records + [{"model_id": "org-0/unsized", "pipeline_tag": "text-generation"}]


def load_off_grid(target: str, seed: int = 7) -> tuple[list[dict], list[dict]]:
    """Upserts off_grid_catalog() and ingests events of its models and one uncatalogued model
    over DAYS into the server at `target`; returns (records, events)."""
    rng = random.Random(seed)
    records = off_grid_catalog()
    models = [record["model_id"] for record in records] + ["nobody/uncatalogued"]
    events = [{"model_id": model_id, "count": rng.randint(1, 100_000),
               "timestamp": dt.datetime.combine(rng.choice(DAYS), dt.time(rng.randrange(24)),
                                                tzinfo=dt.timezone.utc)}
              for model_id in models for _ in range(6)]
    with hubstats.Client(target) as client:
        assert client.upsert_models(records)["rejected"] == 0
        assert client.ingest(events, batch_size=50)["rejected"] == 0
    return records, events


def per_model(records, events, start=None, end=None) -> pd.DataFrame:
    """[model_id, parameters ("Int64", <NA> when unknown), downloads] of the models with
    downloads in start..end (inclusive days; None: open)."""
    frame = pd.DataFrame(events)
    day = frame["timestamp"].map(lambda timestamp: timestamp.date())
    frame = frame[(day >= (start or dt.date.min)) & (day <= (end or dt.date.max))]
    downloads = frame.groupby("model_id", as_index=False)["count"].sum()
    catalog = pd.DataFrame(records)[["model_id", "num_parameters"]]
    merged = downloads.merge(catalog, on="model_id", how="left", validate="1:1")
    return pd.DataFrame({"model_id": merged["model_id"],
                         "parameters": merged["num_parameters"].astype("Int64"),
                         "downloads": merged["count"].astype("int64")})


def expected_sizes(records, events, boundaries: list[int], start=None,
                   end=None) -> tuple[pd.DataFrame, int]:
    """([lower, upper ("Int64", <NA> for the last), downloads] per class of `boundaries`,
    smallest first; the downloads of models of unknown size)."""
    models = per_model(records, events, start, end)
    known = models[models["parameters"].notna()]
    classes = np.searchsorted(boundaries, known["parameters"].astype("int64"), side="right")
    downloads = known.groupby(classes)["downloads"].sum().reindex(
        range(len(boundaries) + 1), fill_value=0)
    return pd.DataFrame({
        "lower": pd.Series([0, *boundaries], dtype="int64"),
        "upper": pd.Series([*boundaries, None], dtype="Int64"),
        "downloads": pd.Series(downloads.to_numpy(), dtype="int64"),
    }), int(models["downloads"].sum() - known["downloads"].sum())


@pytest.fixture
def off_grid(server):
    """(client, records, events) of a server holding the off-grid catalog and its events."""
    records, events = load_off_grid(server.target)
    with hubstats.Client(server.target) as client:
        yield client, records, events


@pytest.mark.parametrize("boundaries, counts, labels", [
    (("7B", "13B", "70B"), LLM_BOUNDARIES, size_labels(LLM_BOUNDARIES)[:-1]),  # No "unknown".
    ((ODD_BOUNDARY, "7B", 13e9, 70_000_000_000), [ODD_BOUNDARY, *LLM_BOUNDARIES], None),
], ids=["7B-13B-70B", "odd-and-llm"])
def test_size_distribution_with_off_grid_boundaries(off_grid, boundaries, counts, labels):
    client, records, events = off_grid
    for start, end in [(None, None), (DAYS[1], DAYS[2])]:
        expected, unknown = expected_sizes(records, events, counts, start, end)
        assert (expected["downloads"] > 0).all()  # Every class has models to misplace.

        sizes = client.size_distribution(boundaries, start=start, end=end)

        assert sizes.attrs["boundaries"] == counts
        if labels:  # (The odd count's spelling is the server's: "<3.141592653B".)
            assert list(sizes["label"]) == labels
        pd.testing.assert_frame_equal(sizes[["lower", "upper", "downloads"]], expected)
        assert sizes.attrs["unknown_downloads"] == unknown > 0
        assert sizes.attrs["known_downloads"] == int(expected["downloads"].sum())


@pytest.mark.parametrize("minimum, maximum", [(7e9, 13e9), (ODD_BOUNDARY, "70B")])
def test_top_n_between_off_grid_sizes(off_grid, minimum, maximum):
    client, records, events = off_grid
    known = per_model(records, events).dropna(subset=["parameters"])
    low, high = (hubstats._convert.parameter_count(value, "p") for value in (minimum, maximum))
    assert {low - 1, low, high - 1, high} <= set(known["parameters"])  # Both edges.
    admitted = known[(known["parameters"] >= low) & (known["parameters"] < high)]
    authors = admitted["model_id"].str.split("/").str[0]
    for by, keys in [("model", admitted["model_id"]), ("author", authors)]:
        want = admitted.groupby(keys)["downloads"].sum()

        top = client.top_n(50, by=by, min_parameters=minimum, max_parameters=maximum)

        assert list(zip(top["id"], top["downloads"])) == ranked(want.to_dict()), by
        assert top.attrs["total_downloads"] == int(want.sum()), by
        assert (top.attrs["min_parameters"], top.attrs["max_parameters"]) == (low, high)
