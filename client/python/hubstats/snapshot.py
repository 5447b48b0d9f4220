"""The real Hugging Face Hub snapshot (top ~10k models, crawled 2024-09-20) as hubstats data.

    python3 -m hubstats.snapshot                        # the snapshot's figures, computed here
    python3 -m hubstats.snapshot --target HOST:PORT     # load it, compare the service's answers

The file is data/hf_models_top10k_2024-09.csv in the repository (provenance in
data/README.md); the package ships it (hubstats/data), so this works after `pip install` too. Each row becomes:

* a catalog record: model_id, pipeline_tag (left out when the row has none) and library_name;
  the file has no parameter counts and no architectures, so those stay unknown, and the
  modality is derived by the server from the pipeline_tag (a row without one is "other");
* one pre-aggregated download event: count = the row's `downloads` (the Hub's rolling 30-day
  count at crawl time), timestamp 2024-09-20T12:00:00Z (the crawl day).

library_name rule: the first tag of the row's `tags` list that is in KNOWN_LIBRARIES (the
Hub's library names that occur in the file), else none. The Hub writes a model's declared
library as its first tag, so this is the first tag for all but 4 rows, which declare a library
outside the list ("ggml", "axolotl", "llamacpp") and get the known one they also carry
("gguf"). Rows starting with a file-format or framework tag ("safetensors", "pytorch",
"region:us", ...) declare no library and carry no library tag, so they have none. Framework
and format tags (pytorch, tf, jax, safetensors, ...) are never libraries.

`figures()` computes the snapshot's headline figures locally from the CSV and the task table
(service/core/task_modality.tsv), independently of the service, for checking.
"""

from __future__ import annotations

import argparse
import ast
import importlib.resources
import csv
import datetime as dt
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from hubstats._checks import require_all_accepted, require_downloads

#: The package's data (hubstats/data: in the source tree, links to data/ and to the server's
#: service/core/task_modality.tsv; an installed package holds copies).
_DATA = importlib.resources.files("hubstats") / "data"
DEFAULT_CSV = Path(os.environ.get("HUBSTATS_SNAPSHOT_CSV",
                                  str(_DATA / "hf_models_top10k_2024-09.csv")))
DEFAULT_TASK_TABLE = Path(str(_DATA / "task_modality.tsv"))

CRAWL_DAY = dt.date(2024, 9, 20)
#: Every snapshot event is stamped at noon UTC of the crawl day.
EVENT_TIME = dt.datetime(2024, 9, 20, 12, 0, 0, tzinfo=dt.timezone.utc)

#: Library names of the Hub's library list that occur as tags in the snapshot.
KNOWN_LIBRARIES = frozenset({
    "adapter-transformers", "asteroid", "audiocraft", "bertopic", "birefnet", "BiRefNet",
    "chat_tts", "colpali", "coqui", "ctranslate2", "deepforest", "depth-anything-v2",
    "diffusers", "diffusion-single-file", "diffusionkit", "doctr", "dust3r", "edsnlp",
    "espnet", "fairseq", "fastai", "fasttext", "flair", "generic", "gguf", "gliner", "keras",
    "liveportrait", "llamafile", "mast3r", "mesh-anything", "mlc-llm", "ml-agents", "mlx",
    "moshi", "nemo", "onnx", "open_clip", "paddlenlp", "peft", "pyannote-audio", "pythae",
    "RAGatouille", "refiners", "sam2", "sample-factory", "sentence-transformers", "setfit",
    "sklearn", "spacy", "span-marker", "speechbrain", "stable-audio-tools",
    "stable-baselines3", "stanza", "tensorflowtts", "tf-keras", "timm", "transformers",
    "transformers.js", "trl", "ultralytics", "UniDepth", "unity-sentis", "whisperkit",
    "yolov10",
})


@dataclass(frozen=True)
class SnapshotModel:
    """One row of the snapshot."""

    model_id: str
    author: str
    downloads: int
    pipeline_tag: str | None
    library_name: str | None
    tags: tuple[str, ...]

    def record(self) -> dict:
        """The catalog record for Client.upsert_models()."""
        return {"model_id": self.model_id, "pipeline_tag": self.pipeline_tag,
                "modality": None, "num_parameters": None, "architecture": None,
                "library_name": self.library_name}

    def event(self) -> dict:
        """The model's one pre-aggregated event for Client.ingest()."""
        return {"model_id": self.model_id, "timestamp": EVENT_TIME, "count": self.downloads}


def library_from_tags(tags: Iterable[str]) -> str | None:
    """The row's library: its first tag that is a known library name (see the module doc)."""
    for tag in tags:
        if tag in KNOWN_LIBRARIES:
            return tag
    return None


def read(path: str | os.PathLike = DEFAULT_CSV) -> list[SnapshotModel]:
    """The snapshot's rows, in file order. Raises ValueError naming the line of a bad row."""
    models = []
    with open(path, newline="", encoding="utf-8") as file:
        for line, row in enumerate(csv.DictReader(file), start=2):
            try:
                tags = tuple(ast.literal_eval(row["tags"])) if row["tags"] else ()
                downloads = int(row["downloads"])
            except (ValueError, SyntaxError, KeyError) as error:
                raise ValueError(f"{path}:{line}: {error}") from None
            model_id = row["modelId"]
            author = row.get("author") or (model_id.split("/")[0] if "/" in model_id
                                           else "(canonical)")
            models.append(SnapshotModel(model_id, author, downloads,
                                        row.get("pipeline_tag") or None,
                                        library_from_tags(tags), tags))
    return models


def records(models: Iterable[SnapshotModel]) -> Iterator[dict]:
    return (model.record() for model in models)


def events(models: Iterable[SnapshotModel]) -> Iterator[dict]:
    return (model.event() for model in models)


def read_task_table(path: str | os.PathLike = DEFAULT_TASK_TABLE) -> dict[str, str]:
    """pipeline_tag -> modality name, from the server's task table file."""
    table = {}
    with open(path, encoding="utf-8") as file:
        for line in file:
            line = line.strip()
            if line and not line.startswith("#"):
                tag, modality = line.split()
                table[tag] = modality
    return table


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------

TOP_MODEL_MARKS = (10, 50, 100)
TOP_AUTHOR_MARKS = (10, 50)


def _top_share(values: Iterable[int], n: int, total: int) -> float:
    return 100.0 * sum(sorted(values, reverse=True)[:n]) / total if total else 0.0


def figures(models: list[SnapshotModel], task_table: dict[str, str] | None = None) -> dict:
    """The snapshot's headline figures, computed from the rows alone.

    {total_downloads, models, authors, modality: {name: %}, top_models: {n: %},
     top_authors: {n: %}, tasks: [(tag or "(none)", downloads, %), ...] descending,
     libraries: [...] likewise}. Modality needs the task table (default: the repository's).
    """
    if task_table is None:
        task_table = read_task_table()
    total = sum(model.downloads for model in models)
    by_modality: Counter = Counter()
    by_task: Counter = Counter()
    by_library: Counter = Counter()
    by_author: dict[str, int] = defaultdict(int)
    for model in models:
        # A catalogued model: its tag in the table, a tag missing there (or none) is "other".
        by_modality[task_table.get(model.pipeline_tag or "", "other")] += model.downloads
        by_task[model.pipeline_tag or "(none)"] += model.downloads
        by_library[model.library_name or "(none)"] += model.downloads
        by_author[model.author] += model.downloads

    def ranked(counter: Counter) -> list[tuple[str, int, float]]:
        rows = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        return [(key, value, 100.0 * value / total) for key, value in rows]

    return {
        "total_downloads": total,
        "models": len(models),
        "authors": len(by_author),
        "modality": {name: 100.0 * value / total for name, value in by_modality.items()},
        "top_models": {n: _top_share((m.downloads for m in models), n, total)
                       for n in TOP_MODEL_MARKS},
        "top_authors": {n: _top_share(by_author.values(), n, total) for n in TOP_AUTHOR_MARKS},
        "tasks": ranked(by_task),
        "libraries": ranked(by_library),
    }


def measure(client) -> dict:
    """The same figures as `figures()`, answered by the service."""
    totals = client.totals()
    share = client.modality_share()
    top_models = client.top_n(max(TOP_MODEL_MARKS), by="model")
    top_authors = client.top_n(max(TOP_AUTHOR_MARKS), by="author")
    tasks = client.breakdown(by="task")
    libraries = client.breakdown(by="library")

    def at(frame, n: int) -> float:
        rows = frame[frame["rank"] <= n]
        return float(rows["cumulative_pct"].iloc[-1]) if len(rows) else 0.0

    return {
        "total_downloads": totals["total_downloads"],
        "models": totals["models_with_downloads"],
        "authors": totals["authors_with_downloads"],
        "modality": {name: float(pct) for name, pct, downloads in
                     zip(share["modality"], share["share_pct"], share["downloads"])
                     if downloads},
        "top_models": {n: at(top_models, n) for n in TOP_MODEL_MARKS},
        "top_authors": {n: at(top_authors, n) for n in TOP_AUTHOR_MARKS},
        "tasks": list(zip(tasks["key"], tasks["downloads"].tolist(), tasks["share_pct"])),
        "libraries": list(zip(libraries["key"], libraries["downloads"].tolist(),
                              libraries["share_pct"])),
    }


def load(client, models: list[SnapshotModel], *, batch_size: int = 10_000) -> dict:
    """Upserts the records, then ingests one event per model. Returns {records, events}
    (the client's summaries); raises RuntimeError if anything was rejected or the accepted
    downloads differ from the file's."""
    record_summary = client.upsert_models(records(models), batch_size=batch_size)
    require_all_accepted(record_summary, "snapshot records")
    event_summary = client.ingest(events(models), batch_size=batch_size)
    require_all_accepted(event_summary, "snapshot events")
    require_downloads(event_summary, sum(model.downloads for model in models), "the file holds")
    return {"records": record_summary, "events": event_summary}


def differences(local: dict, service: dict, tolerance: float = 1e-6) -> list[str]:
    """What differs between two figure dicts (exact counts; shares within `tolerance`)."""
    problems = []
    for key in ("total_downloads", "models", "authors"):
        if local[key] != service[key]:
            problems.append(f"{key}: file {local[key]:,}, service {service[key]:,}")
    for group in ("modality", "top_models", "top_authors"):
        for key in sorted(set(local[group]) | set(service[group]), key=str):
            a, b = local[group].get(key, 0.0), service[group].get(key, 0.0)
            if abs(a - b) > tolerance:
                problems.append(f"{group} {key}: file {a:.4f}%, service {b:.4f}%")
    for group in ("tasks", "libraries"):
        a = {key: downloads for key, downloads, _ in local[group]}
        b = {key: downloads for key, downloads, _ in service[group]}
        if a != b:
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            problems.append(f"{group} differ for {', '.join(keys[:5])}")
    return problems


def format_figures(result: dict, title: str, head: int = 8) -> str:
    lines = [f"{title}: {result['total_downloads']:,} downloads, {result['models']:,} models, "
             f"{result['authors']:,} authors"]
    modality = sorted(result["modality"].items(), key=lambda item: -item[1])
    lines.append("  modality share:   " + ", ".join(f"{name} {pct:.2f}%"
                                                   for name, pct in modality))
    lines.append("  top models:       " + ", ".join(f"top-{n} {pct:.2f}%"
                                                   for n, pct in result["top_models"].items()))
    lines.append("  top organisations: " + ", ".join(f"top-{n} {pct:.2f}%"
                                                    for n, pct in result["top_authors"].items()))
    lines.append("  tasks:            " + ", ".join(f"{key} {pct:.2f}%"
                                                   for key, _, pct in result["tasks"][:head]))
    lines.append("  libraries:        " + ", ".join(f"{key} {pct:.2f}%"
                                                   for key, _, pct in result["libraries"][:5]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m hubstats.snapshot",
        description="The real Hub snapshot: its figures, and optionally load it into a server "
                    "and check that the service answers the same.")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="snapshot CSV file")
    parser.add_argument("--task-table", type=Path, default=DEFAULT_TASK_TABLE,
                        help="pipeline_tag -> modality table the server uses")
    parser.add_argument("--target", help="server host:port: load the snapshot there and compare")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    models = read(args.csv)
    local = figures(models, read_task_table(args.task_table))
    print(format_figures(local, f"Snapshot {args.csv.name} (computed from the file)"))
    if not args.target:
        return 0
    from hubstats import Client, HubstatsError
    with Client(args.target, timeout=args.timeout) as client:
        try:
            load(client, models)
            service = measure(client)
        except (HubstatsError, RuntimeError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print(format_figures(service, "Snapshot as the service answers"))
    problems = differences(local, service)
    for problem in problems:
        print(f"MISMATCH {problem}")
    print("service matches the file" if not problems else f"{len(problems)} mismatches")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
