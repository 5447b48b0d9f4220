"""Version tokens: "<shard>:<major>-<minor>,...", as ingest and upsert answers carry them.

A token names, for some shards of the store, a version an answer must include (read your own
writes). Tokens merge shard by shard, keeping the later version.
"""

from __future__ import annotations


def parse(token: str) -> dict[int, tuple[int, int]]:
    """The token's versions by shard; ValueError when it is not a token."""
    versions: dict[int, tuple[int, int]] = {}
    if not token:
        return versions
    for part in token.split(","):
        shard, _, version = part.partition(":")
        major, _, minor = version.partition("-")
        try:
            key, value = int(shard), (int(major), int(minor))
        except ValueError:
            raise ValueError(f"{part!r} is not <shard>:<version> in version token {token!r}") \
                from None
        versions[key] = max(versions.get(key, (0, 0)), value)
    return versions


def merge(first: str, second: str) -> str:
    """Both tokens' versions, the later one per shard."""
    merged = parse(first)
    for shard, version in parse(second).items():
        merged[shard] = max(merged.get(shard, (0, 0)), version)
    return ",".join(f"{shard}:{major}-{minor}"
                    for shard, (major, minor) in sorted(merged.items()))
