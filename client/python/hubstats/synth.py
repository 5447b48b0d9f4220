"""A synthetic model hub whose downloads reproduce the report's figures by construction.

    python3 -m hubstats.synth --target HOST:PORT --seed 1 --models 50000 --events 800000
    python3 -m hubstats.synth --dry-run --models 2200000 --events 4400000   # no server

The generator is deterministic: the same (seed, models, events, downloads, window) give the same
catalog and the same event stream, byte for byte. Loaded into a hubstats server, the stream
answers every figure of `REPORT` within `TOLERANCE_PP` percentage points, at any model count
from `MIN_MODELS` up to the Hub's size (2.2M models).

How the figures come out by construction
----------------------------------------
1. Downloads per model. Model r (1-based rank) gets the weight (r + 1)^-1.15 (Zipf-Mandelbrot:
   the exponent above 1 keeps the head's share nearly independent of the model count; the top
   model takes 8-12%, the top 10 about 30-38%, like the real snapshot's 35.8%). Totals are
   `downloads` * weight, rounded, at least 1 each. Only the first min(models, events) models
   have downloads; the rest are catalogued but idle.
2. A joint table over (modality, architecture, size class) is fitted by iterative proportional
   fitting: it starts from plausible conditional shares (decoders are large, audio is often
   encoder-decoder, ...) and is scaled until its three margins equal the report's modality,
   architecture and size figures exactly (`joint_table()`). "unknown" modality (no catalog
   record) forces unknown size and architecture.
3. Models are assigned to cells so that each cell's DOWNLOAD-weighted share equals the table
   (`apportion()`): the head (models above 2e-6 of all downloads, largest first) goes one by
   one to the relatively least-filled cell that it fits without overshooting (or, if it fits
   none, to the cell furthest below target), so cells fill at the same pace and get models of
   every size; the tail (small models, shuffled) fills the remaining deficits by consecutive
   intervals of cumulative downloads. A cell misses its target by about one model, and every
   report figure is a sum of cells: the error is < 0.04 pp at 1,000 models and < 0.002 pp
   from 30,000 models on.
4. Organisations: users (the long tail) take the smallest models from the bottom up until
   they hold 100 - 80.22% of the downloads; 50 major organisations share the rest by
   Zipf-like targets (assigned like the cells). Users are capped so that none can outgrow the
   smallest major organisation, so the top 50 by downloads are exactly the majors.
5. Everything else (pipeline tag consistent with the cell's modality in the server's task
   table, explicit modality overrides, exact parameter counts inside the size class with a few
   exactly on a boundary, library, names) is drawn per chunk of 4,096 models from the seed and
   does not move any figure.
6. Events: a model's total is split into pre-aggregated lines (count >= 1, <= 1e9) on days of
   a 30-day window ending 2024-09-20 (weekly seasonality, slight growth), about total^0.6 lines
   per model (at most 720), `events` lines in all, in time order within each chunk.

Memory: O(models) compact numpy arrays (about 20 bytes a model; the whole process peaks near
330 MB while building 2.2M models); the catalog and the events are generated chunk by chunk
as generators, so the stream needs no more memory at any length.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import functools
import io
import itertools
import math
import re
import sys
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from hubstats._checks import require_all_accepted, require_downloads

# ---------------------------------------------------------------------------------------------
# The report's figures
# ---------------------------------------------------------------------------------------------

#: Every figure is measured as a percentage and must come out within this many points.
TOLERANCE_PP = 0.5

#: Share of all downloads per modality (server names). The report's "rest" (0.6) is spread over
#: other / tabular / reinforcement_learning / unknown as below.
MODALITY_TARGETS = {
    "nlp": 58.1,
    "computer_vision": 21.2,
    "audio": 15.1,
    "multimodal": 3.3,
    "time_series": 1.7,
    "tabular": 0.15,
    "reinforcement_learning": 0.08,
    "other": 0.25,
    "unknown": 0.12,
}
#: Modalities the report lumps together as "the rest".
REST_MODALITIES = ("tabular", "reinforcement_learning", "other", "unknown")
#: Share of all downloads of models with a known parameter count.
KNOWN_SIZE_SHARE = 77.76
#: Cumulative share of KNOWN-size downloads below each boundary (parameters).
SIZE_CUMULATIVE = {200_000_000: 69.83, 500_000_000: 86.33, 1_000_000_000: 92.48}
#: Share of all downloads held by the 50 organisations (authors) with the most downloads.
TOP_AUTHORS_N = 50
TOP_AUTHORS_SHARE = 80.22
#: Share of ALL downloads per architecture (breakdown keys). The report gives the first three;
#: "unknown" equals the unknown modality (no record), the rest is split between other / (none).
ARCHITECTURE_TARGETS = {
    "encoder": 45.0,
    "decoder": 9.5,
    "encoder-decoder": 3.0,
    "other": 19.0,
    "(none)": 23.38,
    "unknown": 0.12,
}

#: The report's table: (key, label, report value in %).
REPORT = (
    ("modality:nlp", "Modality share: NLP", 58.1),
    ("modality:computer_vision", "Modality share: computer vision", 21.2),
    ("modality:audio", "Modality share: audio", 15.1),
    ("modality:multimodal", "Modality share: multimodal", 3.3),
    ("modality:time_series", "Modality share: time series", 1.7),
    ("modality:rest", "Modality share: rest (other/tabular/RL/unknown)", 0.6),
    ("size:known", "Downloads with a known size", 77.76),
    ("size:<200M", "Known-size downloads <200M (cumulative)", 69.83),
    ("size:<500M", "Known-size downloads <500M (cumulative)", 86.33),
    ("size:<1B", "Known-size downloads <1B (cumulative)", 92.48),
    ("authors:top50", "Top-50 organisations' share", 80.22),
    ("architecture:encoder", "Architecture: encoder", 45.0),
    ("architecture:decoder", "Architecture: decoder", 9.5),
    ("architecture:encoder-decoder", "Architecture: encoder-decoder", 3.0),
)

MODALITIES = tuple(MODALITY_TARGETS)
ARCHITECTURES = tuple(ARCHITECTURE_TARGETS)
SIZE_CLASSES = ("<200M", "200M-500M", "500M-1B", ">=1B", "unknown")

# ---------------------------------------------------------------------------------------------
# Defaults and limits
# ---------------------------------------------------------------------------------------------

DEFAULT_SEED = 1
DEFAULT_MODELS = 50_000
DEFAULT_EVENTS = 800_000
#: The Hub's size in models (2024).
HUB_MODELS = 2_200_000
HUB_EVENTS = 4_400_000
#: Downloads in the window: a Hub-like month.
DEFAULT_DOWNLOADS = 2_000_000_000
#: Below this many models the head is too lumpy to promise every figure within tolerance.
MIN_MODELS = 1_000
#: The window: 30 days ending on the day of the real snapshot's crawl.
DEFAULT_END_DAY = dt.date(2024, 9, 20)
DEFAULT_DAYS = 30

MAX_EVENT_COUNT = 1_000_000_000
#: At most this many event lines per model (30 days x 24 hourly lines).
MAX_EVENTS_PER_MODEL = 720
#: A history (trend_months) has events / HISTORY_SHARE lines by default (at least
#: MIN_HISTORY_EVENTS): spread over a year, its lines rarely share a model and day, so each
#: costs the server about 3 window lines.
HISTORY_SHARE = 32
MIN_HISTORY_EVENTS = 1000

ZIPF_EXPONENT = 1.15
ZIPF_OFFSET = 1.0
#: Exponent of the event lines a model gets against its downloads.
EVENTS_EXPONENT = 0.6
#: Models above this fraction of all downloads are placed one by one (greedy head).
HEAD_FRACTION = 2e-6
#: Models per generation chunk (fixed: the stream does not depend on any batch size).
CHUNK = 4096
#: Major organisations' targets fall off as rank^-MAJOR_EXPONENT.
MAJOR_EXPONENT = 0.75
#: A tail user holds at most this fraction of the smallest major organisation's target, and
#: receives only models of at most TAIL_MODEL_CAP of it: together < the smallest major.
TAIL_AUTHOR_CAP = 0.35
TAIL_MODEL_CAP = 0.30

_MODEL_PART = re.compile(r"[A-Za-z0-9._-]{1,96}")


def valid_model_id(model_id: str) -> bool:
    """True when `model_id` is "owner/name" with both parts following the Hub's rules:
    1-96 characters of [A-Za-z0-9._-], not starting or ending with '-' or '.', no '--' or
    '..'. (The server also takes a bare legacy "name"; this generator never makes one.)"""
    parts = model_id.split("/")
    if len(parts) != 2:
        return False
    for part in parts:
        if not _MODEL_PART.fullmatch(part) or part[0] in "-." or part[-1] in "-." \
                or "--" in part or ".." in part:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# The joint table
# ---------------------------------------------------------------------------------------------

def _size_targets() -> np.ndarray:
    """Shares of ALL downloads per size class (SIZE_CLASSES order), in %."""
    cumulative = [0.0, *SIZE_CUMULATIVE.values(), 100.0]
    known = [KNOWN_SIZE_SHARE * (high - low) / 100.0
             for low, high in zip(cumulative, cumulative[1:])]
    return np.array([*known, 100.0 - KNOWN_SIZE_SHARE])


# Plausible conditional shares the fit starts from (rows need not sum to 1).
# Architecture given modality: encoder, decoder, encoder-decoder, other, (none), unknown.
_ARCH_PRIOR = {
    "nlp": (0.62, 0.22, 0.08, 0.02, 0.06, 0),
    "computer_vision": (0.45, 0.02, 0.05, 0.33, 0.15, 0),
    "audio": (0.55, 0.02, 0.25, 0.10, 0.08, 0),
    "multimodal": (0.25, 0.45, 0.15, 0.10, 0.05, 0),
    "time_series": (0.10, 0.15, 0.35, 0.20, 0.20, 0),
    "tabular": (0, 0, 0, 0.5, 0.5, 0),
    "reinforcement_learning": (0, 0, 0, 0.6, 0.4, 0),
    "other": (0.10, 0.10, 0, 0.40, 0.40, 0),
    "unknown": (0, 0, 0, 0, 0, 1),
}
# Probability that a model of the modality has a known parameter count.
_KNOWN_PRIOR = {"nlp": 0.85, "computer_vision": 0.7, "audio": 0.75, "multimodal": 0.6,
                "time_series": 0.6, "tabular": 0.3, "reinforcement_learning": 0.2,
                "other": 0.4, "unknown": 0.0}
# Size class given architecture, among known sizes: <200M, 200M-500M, 500M-1B, >=1B.
_SIZE_PRIOR = {
    "encoder": (0.85, 0.12, 0.02, 0.01),
    "decoder": (0.25, 0.15, 0.20, 0.40),
    "encoder-decoder": (0.45, 0.25, 0.20, 0.10),
    "other": (0.80, 0.12, 0.05, 0.03),
    "(none)": (0.70, 0.15, 0.08, 0.07),
    "unknown": (0, 0, 0, 0),
}


def joint_table(iterations: int = 2000) -> np.ndarray:
    """Shares (fractions summing to 1) of all downloads per (modality, architecture, size
    class) cell, shape (9, 6, 5), whose margins equal the report's figures."""
    seed = np.zeros((len(MODALITIES), len(ARCHITECTURES), len(SIZE_CLASSES)))
    for m, modality in enumerate(MODALITIES):
        known = _KNOWN_PRIOR[modality]
        for a, architecture in enumerate(ARCHITECTURES):
            arch_share = _ARCH_PRIOR[modality][a]
            seed[m, a, :4] = arch_share * known * np.array(_SIZE_PRIOR[architecture])
            seed[m, a, 4] = arch_share * (1 - known)
    margins = (np.array(list(MODALITY_TARGETS.values())) / 100,
               np.array(list(ARCHITECTURE_TARGETS.values())) / 100,
               _size_targets() / 100)
    for margin in margins:
        assert abs(margin.sum() - 1) < 1e-9, margin
    table = seed / seed.sum()
    for _ in range(iterations):
        for axis, margin in enumerate(margins):
            other = tuple(i for i in range(3) if i != axis)
            current = table.sum(axis=other)
            factor = np.divide(margin, current, out=np.zeros_like(margin), where=current > 0)
            shape = [1, 1, 1]
            shape[axis] = -1
            table = table * factor.reshape(shape)
        error = max(np.abs(table.sum(axis=tuple(i for i in range(3) if i != axis)) - margin).max()
                    for axis, margin in enumerate(margins))
        if error < 1e-13:
            break
    else:
        raise RuntimeError(f"the joint table did not converge (error {error})")
    return table


# ---------------------------------------------------------------------------------------------
# Download-weighted assignment
# ---------------------------------------------------------------------------------------------

def apportion(weights: np.ndarray, shares: np.ndarray, rng: np.random.Generator,
              head_fraction: float = HEAD_FRACTION, spread_overflow: bool = False) -> np.ndarray:
    """Assigns items (weights sorted descending) to categories so that each category's summed
    weight is shares[k] of the total, up to about one item. Returns the category of each item.

    Items above head_fraction of the total are placed one by one, largest first: into the
    category that is relatively least filled among those the item fits without overshooting
    its target, or, when it fits none, into the one furthest below its target (with
    `spread_overflow`: into a random one, with odds by what each still lacks, so that items
    larger than most targets do not all overshoot the largest ones). Categories thus fill at
    the same pace and get items of every size. The remaining small items are shuffled and cut
    into consecutive intervals of cumulative weight, one per category, sized by what each
    still lacks.
    """
    weights = np.asarray(weights, dtype=np.int64)
    count = len(weights)
    codes = np.zeros(count, dtype=np.int32)
    if count == 0:
        return codes
    total = float(weights.sum())
    targets = np.asarray(shares, dtype=np.float64) * total
    lacking = targets.copy()
    scale = np.divide(1.0, targets, out=np.zeros_like(targets), where=targets > 0)
    head = int(np.searchsorted(-weights, -head_fraction * total, side="left"))
    for i, w in enumerate(weights[:head].tolist()):
        fits = lacking >= w
        if fits.any():
            k = int(np.argmax(np.where(fits, lacking * scale, -1.0)))
        elif spread_overflow and (lacking > 0).any():
            odds = np.clip(lacking, 0, None)
            k = int(np.searchsorted(np.cumsum(odds), rng.random() * odds.sum(), side="right"))
            k = min(k, len(lacking) - 1)
        else:
            k = int(np.argmax(lacking))
        codes[i] = k
        lacking[k] -= w
    if head < count:
        tail = weights[head:]
        lacking = np.clip(lacking, 0, None)
        if lacking.sum() <= 0:
            lacking = targets.copy()
        bounds = np.cumsum(lacking / lacking.sum()) * float(tail.sum())
        order = rng.permutation(len(tail))
        shuffled = tail[order]
        middles = np.cumsum(shuffled) - shuffled / 2
        categories = np.minimum(np.searchsorted(bounds, middles, side="right"), len(targets) - 1)
        codes[head + order] = categories
    return codes


def allot_lines(totals: np.ndarray, target: int, cap: int, option: str) -> np.ndarray:
    """Event lines per model of `totals` downloads: about total^EVENTS_EXPONENT, between 1 (0
    for a model without downloads) and min(total, cap), `target` in all, and at least
    ceil(3 * total / 1e9) so that no line exceeds MAX_EVENT_COUNT. Raises ValueError naming the
    command line `option` that sets the target when no such split exists."""
    totals = np.asarray(totals).astype(np.float64)
    low = np.where(totals > 0, np.maximum(1, np.ceil(3 * totals / MAX_EVENT_COUNT)), 0)
    high = np.minimum(totals, cap)
    if (low > high).any():
        raise ValueError("downloads too large for the event limits; lower --downloads")
    if high.sum() < target:
        raise ValueError(f"at most {int(high.sum()):,} events fit {int(totals.sum()):,} "
                         f"downloads over {len(totals):,} models; lower {option}")
    if low.sum() > target:
        raise ValueError(f"at least {int(low.sum()):,} events are needed; raise {option}")
    powered = totals ** EVENTS_EXPONENT

    def lines(scale: float) -> np.ndarray:
        return np.clip(np.floor(scale * powered), low, high)

    lo_scale, hi_scale = 0.0, 1.0
    while lines(hi_scale).sum() < target:
        hi_scale *= 2
    for _ in range(200):
        middle = (lo_scale + hi_scale) / 2
        if lines(middle).sum() <= target:
            lo_scale = middle
        else:
            hi_scale = middle
    result = lines(lo_scale)
    missing = int(target - result.sum())
    room = np.flatnonzero(result < high)
    result[room[:missing]] += 1  # busiest models first
    assert result.sum() == target
    return result.astype(np.int32)


def _capped_shares(raw: np.ndarray, total: float, cap: float) -> np.ndarray:
    """Scales `raw` to sum `total` with no entry above `cap` (excess spread over the rest)."""
    shares = raw * (total / raw.sum())
    fixed = np.zeros(len(raw), dtype=bool)
    while (shares > cap * (1 + 1e-12)).any():
        fixed |= shares >= cap
        shares[fixed] = cap
        rest = total - cap * fixed.sum()
        free = ~fixed
        shares[free] = raw[free] * (rest / raw[free].sum())
    return shares


# ---------------------------------------------------------------------------------------------
# Names, tags, libraries
# ---------------------------------------------------------------------------------------------

_ORG_HEADS = ("open", "deep", "neur", "quant", "vox", "lumi", "astra", "nova", "hyper", "cogni",
              "tensor", "vecto", "kairo", "zephyr", "sol", "terra", "helio", "orbi", "cipher",
              "poly", "strato", "aether", "lyra", "mosaic", "pixel", "sonic", "verba", "cortex")
_ORG_TAILS = ("ai", "labs", "research", "ml", "-nlp", "works", "-vision", "hq", "-audio",
              "intelligence", "-foundation", "systems")
_USER_HEADS = ("kira", "jdoe", "mlopez", "tanaka", "amir", "lena", "oskar", "priya", "wei",
               "sofia", "nils", "ravi", "mateo", "yuki", "ines", "tomas", "ada", "bo", "chen",
               "dara", "emre", "farah", "gus", "hana", "ivan", "june", "kofi", "lior", "mina")
_USER_TAILS = ("", "-dev", "_ml", "-ai", ".research", "-lab", "_nlp", "x", "-hf", "_cv")

# Model families per (modality, architecture); "*" matches any architecture.
_FAMILIES = {
    ("nlp", "encoder"): ("bert", "roberta", "deberta-v3", "distilbert", "electra",
                         "xlm-roberta", "minilm", "mpnet", "bge", "e5"),
    ("nlp", "decoder"): ("llama", "mistral", "qwen2", "gpt2", "phi", "gemma", "falcon", "olmo"),
    ("nlp", "encoder-decoder"): ("t5", "bart", "mt5", "flan-t5", "marian", "pegasus", "nllb"),
    ("nlp", "*"): ("fasttext", "word2vec", "rwkv", "mamba", "crf-tagger"),
    ("computer_vision", "encoder"): ("vit", "clip-vit", "dinov2", "beit", "swin", "deit",
                                     "siglip"),
    ("computer_vision", "decoder"): ("imagegpt", "llamagen", "vq-decoder"),
    ("computer_vision", "encoder-decoder"): ("detr", "segformer", "donut", "mask2former"),
    ("computer_vision", "*"): ("resnet", "efficientnet", "convnext", "yolo", "unet",
                               "stable-diffusion", "sdxl", "controlnet", "flux-lora"),
    ("audio", "encoder"): ("wav2vec2", "hubert", "ast", "wavlm", "beats"),
    ("audio", "decoder"): ("musicgen", "bark", "valle"),
    ("audio", "encoder-decoder"): ("whisper", "speecht5", "seamless"),
    ("audio", "*"): ("ecapa", "segmentation", "vits", "hifigan", "silero-vad"),
    ("multimodal", "*"): ("llava", "idefics", "paligemma", "blip2", "kosmos", "florence"),
    ("time_series", "*"): ("chronos", "timesfm", "patchtst", "moirai", "lag-llama"),
    ("tabular", "*"): ("xgboost", "tabnet", "autogluon"),
    ("reinforcement_learning", "*"): ("ppo", "dqn", "sac", "a2c"),
    ("other", "*"): ("gnn", "esm", "graphormer", "protbert"),
    ("unknown", "*"): ("model", "checkpoint", "experiment", "test"),
}
_VARIANTS = ("base", "large", "small", "tiny", "mini", "instruct", "chat", "finetuned", "v2",
             "uncased", "multilingual", "squad2", "ner", "sentiment", "v1.5", "distilled",
             "en", "it", "ft", "lora", "gptq", "awq", "qa", "v0.1", "turbo", "xl")

# Pipeline tags per (modality, architecture) with weights; all map to the modality in the
# server's task table (service/core/task_modality.tsv) except those of "other", which are
# either mapped to "other" or deliberately missing from the table.
_TAGS = {
    ("nlp", "encoder"): (("fill-mask", 3), ("sentence-similarity", 3), ("feature-extraction", 2),
                         ("text-classification", 3), ("token-classification", 1),
                         ("question-answering", 1), ("zero-shot-classification", 0.5),
                         ("text-ranking", 0.3)),
    ("nlp", "decoder"): (("text-generation", 9), ("text-classification", 0.5),
                         ("feature-extraction", 0.5)),
    ("nlp", "encoder-decoder"): (("text2text-generation", 5), ("translation", 3),
                                 ("summarization", 2)),
    ("nlp", "*"): (("text-classification", 3), ("token-classification", 2),
                   ("text-generation", 2), ("feature-extraction", 1),
                   ("table-question-answering", 0.3), ("multiple-choice", 0.2)),
    ("computer_vision", "encoder"): (("image-classification", 4),
                                     ("zero-shot-image-classification", 3),
                                     ("image-feature-extraction", 2), ("object-detection", 1),
                                     ("depth-estimation", 0.5)),
    ("computer_vision", "decoder"): (("unconditional-image-generation", 2),
                                     ("text-to-image", 1)),
    ("computer_vision", "encoder-decoder"): (("object-detection", 2),
                                             ("image-segmentation", 2), ("image-to-text", 2)),
    ("computer_vision", "*"): (("text-to-image", 4), ("image-classification", 3),
                               ("object-detection", 2), ("image-to-image", 1),
                               ("image-segmentation", 1), ("mask-generation", 0.3),
                               ("image-to-3d", 0.2), ("text-to-video", 0.2)),
    ("audio", "encoder"): (("audio-classification", 5), ("automatic-speech-recognition", 3),
                           ("voice-activity-detection", 0.5)),
    ("audio", "decoder"): (("text-to-audio", 3), ("text-to-speech", 2)),
    ("audio", "encoder-decoder"): (("automatic-speech-recognition", 8), ("text-to-speech", 2)),
    ("audio", "*"): (("text-to-speech", 3), ("audio-classification", 2),
                     ("voice-activity-detection", 2), ("audio-to-audio", 2)),
    ("multimodal", "*"): (("image-text-to-text", 5), ("visual-question-answering", 2),
                          ("document-question-answering", 1), ("any-to-any", 1),
                          ("audio-text-to-text", 0.5), ("video-text-to-text", 0.5)),
    ("time_series", "*"): (("time-series-forecasting", 1),),
    ("tabular", "*"): (("tabular-classification", 2), ("tabular-regression", 1)),
    ("reinforcement_learning", "*"): (("reinforcement-learning", 3), ("robotics", 1)),
    ("other", "*"): (("graph-ml", 2), ("other", 2), ("protein-folding", 1),
                     ("molecule-generation", 1)),
    ("unknown", "*"): (("text-generation", 1),),  # unused: no record
}
# A few catalogued models carry an explicit modality: without a tag, or (like vision encoders
# listed as feature extractors) with a tag of another modality that the override beats.
_OVERRIDE_SHARE = 0.03
_CONFLICTING_TAG = {"computer_vision": "feature-extraction", "multimodal": "text-generation",
                    "audio": "feature-extraction", "time_series": "feature-extraction"}
# Libraries per (modality, architecture) with weights (None: no library_name); the tag rules
# below keep them plausible for the pipeline tag.
_LIBRARIES = {
    ("nlp", "encoder"): (("transformers", 8), ("sentence-transformers", 2), ("flair", 0.2),
                         (None, 0.3)),
    ("nlp", "decoder"): (("transformers", 7), ("gguf", 2), ("peft", 1), ("mlx", 0.3),
                         (None, 0.2)),
    ("nlp", "encoder-decoder"): (("transformers", 8), ("ctranslate2", 1), (None, 0.3)),
    ("nlp", "*"): (("transformers", 3), ("fasttext", 1), ("flair", 1), ("spacy", 1), (None, 1)),
    ("computer_vision", "encoder"): (("transformers", 6), ("timm", 2), ("open_clip", 1),
                                     (None, 0.3)),
    ("computer_vision", "decoder"): (("transformers", 2), ("diffusers", 1), (None, 1)),
    ("computer_vision", "encoder-decoder"): (("transformers", 6), (None, 1)),
    ("computer_vision", "*"): (("timm", 3), ("diffusers", 3), ("ultralytics", 1),
                               ("transformers", 1), (None, 1)),
    ("audio", "encoder"): (("transformers", 6), ("speechbrain", 1), (None, 0.5)),
    ("audio", "decoder"): (("transformers", 3), ("audiocraft", 1), (None, 0.5)),
    ("audio", "encoder-decoder"): (("transformers", 8), ("ctranslate2", 1), ("nemo", 0.5),
                                   (None, 0.3)),
    ("audio", "*"): (("pyannote-audio", 2), ("speechbrain", 2), ("nemo", 1), ("espnet", 1),
                     (None, 1)),
    ("multimodal", "*"): (("transformers", 8), ("mlx", 0.5), (None, 0.5)),
    ("time_series", "*"): (("transformers", 3), ("gluonts", 1), (None, 1)),
    ("tabular", "*"): (("sklearn", 3), ("keras", 1), (None, 1)),
    ("reinforcement_learning", "*"): (("stable-baselines3", 3), ("ml-agents", 1), (None, 1)),
    ("other", "*"): (("transformers", 1), (None, 2)),
    ("unknown", "*"): ((None, 1),),
}
_GENERATION_TAGS = ("text-to-image", "image-to-image", "unconditional-image-generation",
                    "text-to-video", "image-to-3d")
_EMBEDDING_TAGS = ("sentence-similarity", "feature-extraction", "text-ranking")


def _library_for_tag(library: str | None, tag: str | None) -> str | None:
    if tag == "sentence-similarity":
        return "sentence-transformers"
    if tag in _GENERATION_TAGS:
        return "diffusers"
    if library == "sentence-transformers" and tag not in _EMBEDDING_TAGS:
        return "transformers"
    if library == "diffusers":
        return "timm"
    return library


# Parameter ranges [low, high) per known size class, drawn log-uniformly.
_SIZE_RANGES = ((5_000_000, 200_000_000), (200_000_000, 500_000_000),
                (500_000_000, 1_000_000_000), (1_000_000_000, 72_000_000_000))
# Share of models of a class placed exactly on a class boundary (half-open classes).
_ON_BOUNDARY = 0.03


def _weighted(pairs) -> tuple[list, list[float]]:
    """(values, cumulative probabilities) of (value, weight) pairs; the last is exactly 1."""
    values = [value for value, _ in pairs]
    total = float(sum(weight for _, weight in pairs))
    cumulative = list(itertools.accumulate(weight / total for _, weight in pairs))
    cumulative[-1] = 1.0
    return values, cumulative


def _lookup(table: dict, modality: str, architecture: str):
    return table.get((modality, architecture)) or table[(modality, "*")]


@dataclass(frozen=True)
class _Cell:
    """What a (modality, architecture, size class) cell fixes for its models."""

    modality: str
    architecture: str | None  # as written in the record; None for "(none)" and "unknown"
    size: int                 # index into SIZE_CLASSES
    catalogued: bool
    families: tuple[str, ...]
    tags: tuple[list, list[float]]
    libraries: tuple[list, list[float]]


@functools.lru_cache(maxsize=1)
def _cells() -> tuple[_Cell, ...]:
    cells = []
    for modality in MODALITIES:
        for architecture in ARCHITECTURES:
            for size in range(len(SIZE_CLASSES)):
                cells.append(_Cell(
                    modality,
                    architecture if architecture in ("encoder", "decoder", "encoder-decoder",
                                                     "other") else None,
                    size, modality != "unknown",
                    _lookup(_FAMILIES, modality, architecture),
                    _weighted(_lookup(_TAGS, modality, architecture)),
                    _weighted(_lookup(_LIBRARIES, modality, architecture))))
    return tuple(cells)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if number == 0:
            return text


def _format_parameters(count: int) -> str:
    """A parameter count for a model name: 110m, 1.5b, 7b."""
    if count >= 1_000_000_000:
        value, suffix = count / 1e9, "b"
    else:
        value, suffix = count / 1e6, "m"
    text = f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else f"{value:.0f}"
    return text + suffix


# ---------------------------------------------------------------------------------------------
# The hub
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Chunk:
    """Attributes of the models [start, stop) (lists, one entry a model)."""

    start: int
    model_ids: list[str]
    records: list[dict | None]  # None: the model has no catalog record.


class SyntheticHub:
    """A deterministic synthetic hub: `models` models, `events` event lines, `downloads`
    downloads over `days` days ending `end_day` (the window, which holds the report's figures).
    With `trend_months` (at least 2), a history of `history_events` lines (default: events /
    HISTORY_SHARE, at least MIN_HISTORY_EVENTS) precedes the window from the 1st of the month `trend_months - 1` before its
    last, the modality shares moving toward the window's (hubstats.synth_history):
    `total_downloads` and `event_count` then count both, `window_downloads` and
    `window_events` the window alone.

    `catalog()` and `events()` are generators; `figures()` computes the report's figures from
    the generator's own arrays (what the service must answer, up to rounding).
    """

    def __init__(self, seed: int = DEFAULT_SEED, models: int = DEFAULT_MODELS,
                 events: int = DEFAULT_EVENTS, downloads: int = DEFAULT_DOWNLOADS,
                 end_day: dt.date = DEFAULT_END_DAY, days: int = DEFAULT_DAYS,
                 trend_months: int = 0, history_events: int | None = None):
        if models < MIN_MODELS:
            raise ValueError(f"models must be at least {MIN_MODELS}, got {models}")
        if events < MIN_MODELS:
            raise ValueError(f"events must be at least {MIN_MODELS}, got {events}")
        if not 1 <= days <= 366:
            raise ValueError(f"days must be 1..366, got {days}")
        start_day = end_day - dt.timedelta(days=days - 1)
        if start_day < dt.date(2015, 1, 1):
            raise ValueError("the window must start on or after 2015-01-01")
        if downloads < events:
            raise ValueError(f"downloads ({downloads}) must be at least events ({events}): "
                             "every event line counts at least one download")
        self.seed, self.models, self.events_requested = seed, models, events
        self.downloads_requested, self.end_day, self.days = downloads, end_day, days
        self.start_day = start_day
        self._table = joint_table()
        self._build()
        self.window_downloads, self.window_events = self.total_downloads, self.event_count
        self.trend_months, self.history = trend_months, None
        if trend_months:
            from hubstats import synth_history
            per_modality = len(ARCHITECTURES) * len(SIZE_CLASSES)
            self.history = synth_history.build(
                self.totals, self.cells[:self.active].astype(np.int64) // per_modality,
                start_day, days, trend_months,
                max(events // HISTORY_SHARE, MIN_HISTORY_EVENTS) if history_events is None
                else history_events,
                self._rng(6, 0))
            self.total_downloads += self.history.total_downloads
            self.event_count += self.history.event_count

    @property
    def first_day(self) -> dt.date:
        """The first day of the stream: the history's, else the window's."""
        return self.history.start_day if self.history else self.start_day

    # -- construction ----------------------------------------------------------------------

    def _rng(self, *path: int) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, *path])))

    def _build(self) -> None:
        active = min(self.models, self.events_requested)
        ranks = np.arange(1, active + 1, dtype=np.float64)
        weights = (ranks + ZIPF_OFFSET) ** -ZIPF_EXPONENT
        totals = np.maximum(1, np.rint(weights * (self.downloads_requested / weights.sum())))
        self.totals = totals.astype(np.int64)  # non-increasing
        self.active = active
        self.total_downloads = int(self.totals.sum())
        self.lines = self._event_lines()
        self.event_count = int(self.lines.sum())

        # Cells: flattened (modality, architecture, size) index.
        table = self._table.reshape(-1)
        self.cells = np.empty(self.models, dtype=np.int16)
        self.cells[:active] = apportion(self.totals, table, self._rng(1, 1))
        idle = self.models - active
        if idle:
            self.cells[active:] = self._rng(1, 2).choice(len(table), size=idle, p=table)

        # Authors. Users (the long tail) take the smallest models, from the bottom up, until
        # they hold all but the top-50 share; the 50 major organisations share the rest by
        # Zipf-like targets. No user may outgrow the smallest major organisation.
        majors = np.arange(1, TOP_AUTHORS_N + 1, dtype=np.float64) ** -MAJOR_EXPONENT
        majors /= majors.sum()
        smallest_major = majors[-1] * TOP_AUTHORS_SHARE / 100 * self.total_downloads
        users_mass = (1 - TOP_AUTHORS_SHARE / 100) * self.total_downloads
        from_bottom = np.cumsum(self.totals[::-1])
        bottom = int(np.searchsorted(from_bottom, users_mass))  # bottom items below the target
        if bottom < active and abs(from_bottom[bottom] - users_mass) < \
                abs((from_bottom[bottom - 1] if bottom else 0) - users_mass):
            bottom += 1
        first_user = active - bottom
        if first_user < TOP_AUTHORS_N or \
                self.totals[first_user] > TAIL_MODEL_CAP * smallest_major:
            raise ValueError("too few models for the top-50 organisations figure")
        self.authors = np.empty(self.models, dtype=np.int32)
        self.authors[:first_user] = apportion(self.totals[:first_user], majors, self._rng(2, 1))
        tail = np.arange(first_user, active)
        tail_mass = float(self.totals[first_user:].sum())
        cap = TAIL_AUTHOR_CAP * smallest_major
        users = max(int(math.ceil(2 * tail_mass / cap)), len(tail) // 5, 1)
        raw = (np.arange(users, dtype=np.float64) + 5) ** -0.8
        bounds = np.cumsum(_capped_shares(raw, tail_mass, cap))
        rng = self._rng(2, 2)
        order = rng.permutation(len(tail))
        shuffled = self.totals[tail[order]]
        middles = np.cumsum(shuffled) - shuffled / 2
        user = np.minimum(np.searchsorted(bounds, middles, side="right"), users - 1)
        self.authors[tail[order]] = TOP_AUTHORS_N + user
        if idle:
            self.authors[active:] = TOP_AUTHORS_N + rng.integers(0, users, size=idle)
        self.author_count = TOP_AUTHORS_N + users  # Author slots, some of them idle.
        #: Authors with at least one downloaded model: what the service counts.
        self.authors_with_downloads = int(np.unique(self.authors[:active]).size)
        self._major_names = self._make_major_names()
        self._scramble = (int(self._rng(3, 0).integers(1, 2**31)) * 2 + 1,
                          int(self._rng(3, 1).integers(0, 2**32)))

    def _event_lines(self) -> np.ndarray:
        """Event lines per active model (see allot_lines), the requested events in all."""
        return allot_lines(self.totals, self.events_requested, MAX_EVENTS_PER_MODEL, "--events")

    def _make_major_names(self) -> list[str]:
        rng = self._rng(3, 2)
        names = [head + tail for head in _ORG_HEADS for tail in _ORG_TAILS]
        picked = [names[i] for i in rng.permutation(len(names))[:TOP_AUTHORS_N]]
        styled = []
        for name in picked:
            if rng.random() < 0.35:
                name = "".join(part.capitalize() for part in name.split("-"))
            styled.append(name)
        assert len(set(n.lower() for n in styled)) == TOP_AUTHORS_N
        return styled

    # -- names -----------------------------------------------------------------------------

    def author_name(self, author: int) -> str:
        """Name of author index `author`: majors have no digits, users end in their number."""
        if author < TOP_AUTHORS_N:
            return self._major_names[author]
        user = author - TOP_AUTHORS_N
        mix = (user * 2654435761 + self.seed * 97) & 0xFFFFFFFF
        head = _USER_HEADS[mix % len(_USER_HEADS)]
        tail = _USER_TAILS[(mix >> 8) % len(_USER_TAILS)]
        return f"{head}{tail}{user}"

    def _suffix(self, model: int) -> str:
        multiplier, offset = self._scramble
        return _base36((model * multiplier + offset) & 0xFFFFFFFF)

    # -- per-chunk attributes ----------------------------------------------------------------

    def chunk(self, index: int) -> Chunk:
        """The models [index * CHUNK, ...): their ids and catalog records."""
        start = index * CHUNK
        stop = min(self.models, start + CHUNK)
        size = stop - start
        rng = self._rng(4, index)
        u_tag, u_override, u_library, u_size, u_boundary, u_family, u_variant, u_style = (
            rng.random((8, size)))
        cell_codes = self.cells[start:stop].tolist()
        # Parameter counts: log-uniform inside the class, a few exactly on a boundary.
        classes = self.cells[start:stop] % len(SIZE_CLASSES)
        known = classes < 4
        low = np.array([r[0] for r in _SIZE_RANGES] + [1], dtype=np.float64)[classes]
        high = np.array([r[1] for r in _SIZE_RANGES] + [2], dtype=np.float64)[classes]
        drawn = np.floor(np.exp(np.log(low) + u_size * (np.log(high) - np.log(low))))
        drawn = np.clip(drawn, low, high - 1)
        boundary = np.where(classes == 0, high - 1, low)  # 199,999,999 / 200M / 500M / 1B
        parameters = np.where(u_boundary < _ON_BOUNDARY, boundary, drawn).astype(np.int64)
        parameters = [p if k else None for p, k in zip(parameters.tolist(), known.tolist())]
        u_tag, u_override, u_library = u_tag.tolist(), u_override.tolist(), u_library.tolist()
        u_family, u_variant, u_style = u_family.tolist(), u_variant.tolist(), u_style.tolist()
        authors = self.authors[start:stop].tolist()
        cells = _cells()
        ids, records = [], []
        for offset in range(size):
            cell = cells[cell_codes[offset]]
            count = parameters[offset]
            family = cell.families[int(u_family[offset] * len(cell.families))]
            variant = _VARIANTS[int(u_variant[offset] * len(_VARIANTS))]
            style = u_style[offset]
            if count is not None and style < 0.5:
                parts = (family, _format_parameters(count), variant)
            else:
                parts = (family, variant)
            name = ("_" if style > 0.9 else "-").join(parts) + "-" + self._suffix(start + offset)
            model_id = f"{self.author_name(authors[offset])}/{name}"
            ids.append(model_id)
            if not cell.catalogued:
                records.append(None)
                continue
            tags, cumulative = cell.tags
            tag = tags[bisect.bisect_right(cumulative, u_tag[offset])]
            explicit = None
            if u_override[offset] < _OVERRIDE_SHARE:
                explicit = cell.modality
                tag = (_CONFLICTING_TAG.get(cell.modality)
                       if u_override[offset] < _OVERRIDE_SHARE / 3 else None)
            libraries, cumulative = cell.libraries
            library = _library_for_tag(
                libraries[bisect.bisect_right(cumulative, u_library[offset])], tag)
            records.append({
                "model_id": model_id,
                "pipeline_tag": tag,
                "modality": explicit,
                "num_parameters": count,
                "architecture": cell.architecture,
                "library_name": library,
            })
        return Chunk(start, ids, records)

    @property
    def chunk_count(self) -> int:
        return (self.models + CHUNK - 1) // CHUNK

    def model_ids(self) -> Iterator[str]:
        for index in range(self.chunk_count):
            yield from self.chunk(index).model_ids

    def catalog(self) -> Iterator[dict]:
        """Catalog records, model by model (models of "unknown" modality have none)."""
        for index in range(self.chunk_count):
            for record in self.chunk(index).records:
                if record is not None:
                    yield record

    @property
    def catalog_count(self) -> int:
        unknown = MODALITIES.index("unknown")
        per_modality = len(ARCHITECTURES) * len(SIZE_CLASSES)
        return int((self.cells // per_modality != unknown).sum())

    # -- events ----------------------------------------------------------------------------

    def _day_weights(self) -> np.ndarray:
        days = [self.start_day + dt.timedelta(days=d) for d in range(self.days)]
        weights = np.array([(0.8 if day.weekday() >= 5 else 1.0) * (1 + 0.01 * d)
                            for d, day in enumerate(days)])
        return np.cumsum(weights / weights.sum())

    def event_arrays(self) -> Iterator[tuple[list[str], np.ndarray, np.ndarray, np.ndarray]]:
        """Per chunk of models: (model ids of the chunk, model offset in the chunk of each
        event, Unix seconds of each event, count of each event), events in time order; the
        history's lines of a chunk (if any) come before its window's."""
        for _, ids, owner, seconds, counts in self._chunk_arrays(with_ids=True):
            yield ids, owner, seconds, counts

    def _chunk_arrays(self, with_ids: bool):
        """event_arrays with the chunk's first model index in front (and ids None without
        `with_ids`, which saves building the chunk's names)."""
        start_seconds = int(dt.datetime(self.start_day.year, self.start_day.month,
                                        self.start_day.day, tzinfo=dt.timezone.utc).timestamp())
        day_cumulative = self._day_weights()
        for index in range(self.chunk_count):
            start = index * CHUNK
            stop = min(self.active, start + CHUNK)
            if stop <= start:
                break
            ids = self.chunk(index).model_ids if with_ids else None
            if self.history is not None:
                from hubstats import synth_history
                lines = synth_history.event_arrays(self.history, start, stop,
                                                   self._rng(7, index))
                if len(lines[0]):
                    yield (start, ids, *lines)
            rng = self._rng(5, index)
            lines = self.lines[start:stop].astype(np.int64)
            totals = self.totals[start:stop]
            owner = np.repeat(np.arange(stop - start), lines)
            days = np.minimum(np.searchsorted(day_cumulative, rng.random(len(owner)),
                                              side="right"), self.days - 1)
            seconds = start_seconds + days * 86400 + rng.integers(0, 86400, size=len(owner))
            # Counts: 1 each, plus the model's remaining downloads split by random weights
            # (largest remainders), so every line stays within 3x the model's mean line.
            weights = rng.uniform(0.5, 1.5, size=len(owner))
            first = np.concatenate(([0], np.cumsum(lines)[:-1]))
            weight_sums = np.add.reduceat(weights, first)
            extra = (totals - lines).astype(np.float64)
            raw = extra[owner] * weights / weight_sums[owner]
            floor = np.floor(raw)
            remainder = (totals - lines) - np.add.reduceat(floor, first).astype(np.int64)
            order = np.lexsort((-(raw - floor), owner))
            position = np.empty(len(owner), dtype=np.int64)
            position[order] = np.arange(len(owner)) - np.repeat(first, lines)
            counts = 1 + floor.astype(np.int64) + (position < remainder[owner])
            by_time = np.argsort(seconds, kind="stable")
            yield start, ids, owner[by_time], seconds[by_time], counts[by_time]

    def events(self) -> Iterator[dict]:
        """Event dicts {model_id, timestamp (Unix seconds), count} for Client.ingest()."""
        for ids, owner, seconds, counts in self.event_arrays():
            for o, s, c in zip(owner.tolist(), seconds.tolist(), counts.tolist()):
                yield {"model_id": ids[o], "timestamp": s, "count": c}

    def daily_totals(self) -> dict[tuple[dt.date, str], int]:
        """Downloads per (UTC day, modality) of the whole stream, window and history, summed
        from the generator's own event arrays: what the service must answer per day."""
        per_modality = len(ARCHITECTURES) * len(SIZE_CLASSES)
        modality = self.cells.astype(np.int64) // per_modality
        first = self.first_day.toordinal()
        days = self.end_day.toordinal() - first + 1
        grid = np.zeros((days, len(MODALITIES)), dtype=np.int64)
        epoch = dt.date(1970, 1, 1).toordinal()
        for start, _, owner, seconds, counts in self._chunk_arrays(with_ids=False):
            day = seconds // 86400 + epoch - first
            np.add.at(grid, (day, modality[start + owner]), counts)
        return {(dt.date.fromordinal(first + d), MODALITIES[k]): int(grid[d, k])
                for d, k in zip(*np.nonzero(grid))}

    def period_totals(self, granularity: str) -> dict[tuple[dt.date, str], int]:
        """daily_totals summed per period ("day", "week": ISO weeks by their Monday, "month":
        by their 1st), every period of the stream and every modality (zeros included)."""
        def period(day: dt.date) -> dt.date:
            return (day if granularity == "day" else
                    day - dt.timedelta(days=day.weekday()) if granularity == "week" else
                    day.replace(day=1))
        totals = {(period(self.first_day + dt.timedelta(days=d)), m): 0
                  for d in range((self.end_day - self.first_day).days + 1) for m in MODALITIES}
        for (day, modality), downloads in self.daily_totals().items():
            totals[(period(day), modality)] += downloads
        return totals

    # -- figures ---------------------------------------------------------------------------

    def figures(self) -> dict[str, float]:
        """The report's figures over the window, computed from the generator's arrays (same
        keys as REPORT)."""
        totals = self.totals.astype(np.float64)
        whole = totals.sum()
        cells = np.bincount(self.cells[:self.active], weights=totals,
                            minlength=self._table.size).reshape(self._table.shape) / whole * 100
        by_modality = cells.sum(axis=(1, 2))
        by_arch = cells.sum(axis=(0, 2))
        by_size = cells.sum(axis=(0, 1))
        known = by_size[:4].sum()
        result = {f"modality:{m}": float(v) for m, v in zip(MODALITIES, by_modality)}
        result["modality:rest"] = float(sum(by_modality[MODALITIES.index(m)]
                                            for m in REST_MODALITIES))
        result["size:known"] = float(known)
        cumulative = np.cumsum(by_size[:3]) / known * 100
        for label, value in zip(("<200M", "<500M", "<1B"), cumulative):
            result[f"size:{label}"] = float(value)
        per_author = np.bincount(self.authors[:self.active], weights=totals)
        result["authors:top50"] = float(np.sort(per_author)[::-1][:TOP_AUTHORS_N].sum()
                                        / whole * 100)
        for a, value in zip(ARCHITECTURES, by_arch):
            result[f"architecture:{a}"] = float(value)
        return result


# ---------------------------------------------------------------------------------------------
# Measuring through the service
# ---------------------------------------------------------------------------------------------

def measure(client, start=None, end=None) -> dict[str, float]:
    """The report's figures as the service answers them over start..end (the hub's window;
    None: all days), keys as in REPORT, plus every modality and architecture."""
    result = {}
    share = client.modality_share(start, end)
    by_name = dict(zip(share["modality"], share["share_pct"]))
    for modality in MODALITIES:
        result[f"modality:{modality}"] = float(by_name.get(modality, 0.0))
    result["modality:rest"] = sum(result[f"modality:{m}"] for m in REST_MODALITIES)
    sizes = client.size_distribution(boundaries=list(SIZE_CUMULATIVE), start=start, end=end)
    result["size:known"] = 100.0 - float(sizes.attrs["unknown_share_pct"])
    for label, value in zip(("<200M", "<500M", "<1B"), sizes["cumulative_pct"]):
        result[f"size:{label}"] = float(value)
    top = client.top_n(TOP_AUTHORS_N, by="author", start=start, end=end)
    result["authors:top50"] = float(top.attrs["top_share_pct"])
    arch = client.breakdown(by="architecture", start=start, end=end)
    by_key = dict(zip(arch["key"], arch["share_pct"]))
    for architecture in ARCHITECTURES:
        result[f"architecture:{architecture}"] = float(by_key.get(architecture, 0.0))
    return result


def compare(measured: dict[str, float], tolerance: float = TOLERANCE_PP) -> list[dict]:
    """One row per report figure: {key, label, report, service, diff, ok}."""
    rows = []
    for key, label, expected in REPORT:
        value = measured.get(key, float("nan"))
        diff = value - expected
        rows.append({"key": key, "label": label, "report": expected, "service": value,
                     "diff": diff, "ok": abs(diff) <= tolerance})
    return rows


def format_comparison(rows: list[dict], title: str = "Report vs service (synthetic hub)",
                      value_name: str = "service") -> str:
    width = max(len(row["label"]) for row in rows)
    lines = [title,
             f"  {'figure':<{width}}  {'report %':>9}  {value_name + ' %':>10}  {'diff pp':>8}  "
             f"result"]
    for row in rows:
        lines.append(f"  {row['label']:<{width}}  {row['report']:>9.2f}  {row['service']:>10.2f}"
                     f"  {row['diff']:>+8.2f}  {'OK' if row['ok'] else 'FAIL'}")
    failed = sum(not row["ok"] for row in rows)
    lines.append(f"  {len(rows) - failed} of {len(rows)} figures within {TOLERANCE_PP} pp"
                 + ("" if not failed else f"; {failed} FAIL"))
    return "\n".join(lines)


def served_trend(client, granularity: str = "month") -> dict[tuple[dt.date, str], int]:
    """The service's modality trend over every day with data, as period_totals gives the
    generator's: {(period start, modality): downloads}."""
    frame = client.trend(granularity=granularity, dimension="modality")
    return {(row.period_start, row.key): int(row.downloads)
            for row in frame.itertuples(index=False)}


def trend_differences(expected: dict, served: dict) -> list[str]:
    """How the service's trend (served_trend) differs from the generator's period_totals;
    empty when they are equal, period by period and modality by modality."""
    problems = [f"{period} {modality}: service {served.get((period, modality))}, generator "
                f"{downloads}" for (period, modality), downloads in sorted(expected.items())
                if served.get((period, modality)) != downloads]
    problems += [f"{period} {modality}: service {downloads}, not in the generator's periods"
                 for (period, modality), downloads in sorted(served.items())
                 if (period, modality) not in expected]
    return problems


#: The columns of a trend table: the report's five modalities, then the rest.
TREND_COLUMNS = (("nlp", "NLP"), ("computer_vision", "CV"), ("audio", "audio"),
                 ("multimodal", "multimodal"), ("time_series", "time series"))


def format_trend(totals: dict, granularity: str = "month",
                 title: str = "Modality share per month (%)") -> str:
    """A table of modality shares per period from {(period start, modality): downloads}, the
    report's figures in the last line: period, downloads, NLP, CV, audio, multimodal, time
    series, rest."""
    from hubstats.trend_chart import period_label

    names = [label for _, label in TREND_COLUMNS] + ["rest"]
    lines = [title, f"  {'period':<9}  {'downloads':>15}" + "".join(f"  {n:>11}" for n in names)]
    for period in sorted({period for period, _ in totals}):
        row = {m: totals.get((period, m), 0) for m in MODALITIES}
        whole = sum(row.values())
        shares = [100 * row[m] / whole if whole else 0.0 for m, _ in TREND_COLUMNS]
        shares.append(100 * sum(row[m] for m in REST_MODALITIES) / whole if whole else 0.0)
        lines.append(f"  {period_label(period, granularity):<9}  {whole:>15,}"
                     + "".join(f"  {share:>11.2f}" for share in shares))
    report = [MODALITY_TARGETS[m] for m, _ in TREND_COLUMNS]
    report.append(sum(MODALITY_TARGETS[m] for m in REST_MODALITIES))
    lines.append(f"  {'report':<9}  {'':>15}" + "".join(f"  {share:>11.2f}" for share in report))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Loading with progress
# ---------------------------------------------------------------------------------------------

class Progress:
    """A progress line on a stream: done / total, %, rate, ETA. Redraws in place on a
    terminal, else prints a line every `interval` seconds (and at the end)."""

    def __init__(self, label: str, total: int, unit: str = "events", stream=None,
                 interval: float | None = None):
        self.label, self.total, self.unit = label, max(total, 1), unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval if interval is not None else (0.25 if self.tty else 5.0)
        self.started = time.monotonic()
        self.last = 0.0
        self.done = 0

    def update(self, done: int, final: bool = False) -> None:
        self.done = done
        now = time.monotonic()
        if not final and now - self.last < self.interval:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        left = (self.total - done) / rate if rate > 0 else float("inf")
        eta = "" if final or not math.isfinite(left) else f"  ETA {_duration(left)}"
        text = (f"{self.label}: {done:,}/{self.total:,} {self.unit} "
                f"{100 * done / self.total:5.1f}%  {rate:,.0f} {self.unit}/s"
                f"{eta}{'  in ' + _duration(elapsed) if final else ''}")
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        self.update(self.done, final=True)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _counted(items, progress: Progress):
    done = 0
    for item in items:
        yield item
        done += 1
        if done % 1000 == 0:
            progress.update(done)
    progress.update(done)


def load(client, hub: SyntheticHub, *, batch_size: int = 10_000, show_progress: bool = True,
         stream=None, label: str = "synthetic") -> dict:
    """Upserts the hub's catalog, then streams its events through the ingest RPC, showing
    progress on `stream` (stderr). Returns {records, events} with the client's summaries;
    raises RuntimeError if anything was rejected or the accepted downloads differ from the
    hub's."""
    out = (stream if stream is not None else sys.stderr) if show_progress else io.StringIO()
    records_progress = Progress(f"{label} catalog", hub.catalog_count, "records", out)
    records = client.upsert_models(_counted(hub.catalog(), records_progress),
                                   batch_size=batch_size)
    records_progress.finish()
    require_all_accepted(records, "catalog records")
    events_progress = Progress(f"{label} events", hub.event_count, "events", out)
    summary = client.ingest(hub.events(), batch_size=batch_size,
                            progress=lambda p: events_progress.update(p["processed"]))
    events_progress.finish()
    require_all_accepted(summary, "events")
    require_downloads(summary, hub.total_downloads, "the generator made")
    return {"records": records, "events": summary}


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m hubstats.synth",
        description="Generate a synthetic hub that reproduces the report's figures, stream it "
                    "into a hubstats server and compare what the service answers.")
    parser.add_argument("--target", help="server host:port (required unless --dry-run)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--models", type=int, default=DEFAULT_MODELS,
                        help=f"models in the catalog (default {DEFAULT_MODELS:,}; the Hub: "
                             f"{HUB_MODELS:,})")
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS,
                        help=f"event lines to stream (default {DEFAULT_EVENTS:,})")
    parser.add_argument("--downloads", type=int, default=DEFAULT_DOWNLOADS,
                        help=f"downloads in the window (default {DEFAULT_DOWNLOADS:,})")
    parser.add_argument("--end-day", type=dt.date.fromisoformat, default=DEFAULT_END_DAY,
                        help="last day of the window, YYYY-MM-DD (default 2024-09-20)")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="days in the window")
    parser.add_argument("--trend-months", type=int, default=0,
                        help="add a history so that the stream spans this many calendar months "
                             "(at least 2), the modality shares moving toward the report's "
                             "(default 0: the window only)")
    parser.add_argument("--history-events", type=int,
                        help=f"event lines of the history (default: events / "
                             f"{HISTORY_SHARE}, at least {MIN_HISTORY_EVENTS})")
    parser.add_argument("--batch-size", type=int, default=10_000, help="events per request")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per query/upsert")
    parser.add_argument("--dry-run", action="store_true",
                        help="no server: print the figures the stream will produce")
    args = parser.parse_args(argv)
    if not args.dry_run and not args.target:
        parser.error("--target is required (or use --dry-run)")

    started = time.monotonic()
    try:
        hub = SyntheticHub(args.seed, args.models, args.events, args.downloads, args.end_day,
                           args.days, args.trend_months, args.history_events)
    except ValueError as error:
        parser.error(str(error))
    print(f"synthetic hub: seed {hub.seed}, {hub.models:,} models ({hub.catalog_count:,} "
          f"catalogued, {hub.active:,} with downloads), {hub.authors_with_downloads:,} authors "
          f"with downloads, "
          f"{hub.event_count:,} events, {hub.total_downloads:,} downloads, "
          f"{hub.first_day}..{hub.end_day} (the report's window: {hub.start_day}.."
          f"{hub.end_day}); built in {time.monotonic() - started:.1f}s", file=sys.stderr)
    if args.dry_run:
        print(format_comparison(compare(hub.figures()), "Report vs generator (dry run)",
                                "generator"))
        if hub.history:
            print("\n" + format_trend(hub.period_totals("month"),
                                      title="Modality share per month, generator (%)"))
        return 0

    from hubstats import Client, HubstatsError
    with Client(args.target, timeout=args.timeout) as client:
        try:
            load(client, hub, batch_size=args.batch_size)
            rows = compare(measure(client, hub.start_day, hub.end_day))
            served = served_trend(client) if hub.history else {}
        except (HubstatsError, RuntimeError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print(format_comparison(rows))
    problems = trend_differences(hub.period_totals("month"), served) if hub.history else []
    if hub.history:
        print("\n" + format_trend(served, title="Modality share per month, service (%)"))
        print("  the service's monthly trend equals the generator's totals" if not problems
              else "  MISMATCH: " + "; ".join(problems[:5]))
    return 0 if all(row["ok"] for row in rows) and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
