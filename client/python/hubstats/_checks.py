"""Checks of the summaries Client.upsert_models and Client.ingest return, for the demo data
loaders (hubstats.snapshot, hubstats.synth): loading a data set must take all of it."""

from __future__ import annotations


def require_all_accepted(summary: dict, what: str) -> None:
    """RuntimeError naming `what` ("snapshot events", ...) if the summary has rejections."""
    if summary["rejected"]:
        raise RuntimeError(f"{summary['rejected']} {what} rejected, e.g. {summary['errors'][:3]}")


def require_downloads(summary: dict, expected: int, source: str) -> None:
    """RuntimeError if an ingest summary's accepted downloads differ from what `source` holds
    (e.g. "the file holds")."""
    if summary["accepted_downloads"] != expected:
        raise RuntimeError(f"the service accepted {summary['accepted_downloads']:,} downloads, "
                           f"{source} {expected:,}")
