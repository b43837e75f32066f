"""Stage 3b — a small trained adapter on the frozen encoder (parameter-efficient learning).

Zero-shot similarity between a request and item text is weak: item text (title, genres,
a few tags) says little about what a film feels like or who watches it. The adapter learns
that mapping from interaction data while the language model stays frozen.

Model (a linear head; about 61 k trainable parameters, the encoder's 22 M stay frozen)::

    h(q)  = W q                              W ∈ ℝ^{d×384}: request embedding → taste space
    z_i   = P e_i + Q y_i                    item: content embedding e_i and ALS factors y_i
    a_i   = h(q)ᵀ z_i + β_i                  β_i: learned item bias
    p̂_i   = softmax_i(a_i)

Loss (cross-entropy over all items, ``y_ij`` uniform over the items user ``j`` liked)::

    L = − Σ_j Σ_i y_ij log p̂_ij

Why this head: a linear map into a space built from both the item's text and its CF factors
lets the adapter reach items whose text says nothing about the request ("something to
cheer me up" → films people who describe themselves that way rate highly), while the
bias learns a prior. A two-layer head, content-only or CF-only items and a bias-only model
all did worse on the held-out real requests (``bench/adapter_heads.py``; README).

Training pairs come from training users only (``users``; never held-out users): a
description written from a random subset of their liked items (:mod:`recsys.profiles`)
and all their liked items as targets. The item side's ALS factors ``y_i`` are refitted on
``users`` minus the validation users, so neither validation nor held-out users reach the
adapter. In the pipeline the adapter becomes a term of ``r``::

    r_i ← r⁰_i + λ · sd(r⁰) · (a_i − mean(a)) / sd(a)

with ``λ`` chosen for the blend on validation users' *synthetic* descriptions, with CF and
prior fitted without those users, by the one-standard-error rule (never on the real
requests that judge it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

import numpy as np

from recsys.cachefile import load_npz, save_npz
from recsys.relevance import top_indices
from recsys.profiles import Variant, describe
from recsys.progress import Progress, report, scaled

if TYPE_CHECKING:
    from recsys.catalogue import Catalogue
    from recsys.cf import CFModel
    from recsys.pipeline import Recommender

logger = logging.getLogger(__name__)

#: v2: item side from an ALS without the validation users; v3: λ chosen with the era-gated term;
#: v4: the query texts it learns from drop negation cues with their scope ("I hate …").
ADAPTER_RECIPE = "linear-text+cf/v4"
#: the validation users' descriptions (one of each, for the choice of λ)
VALIDATION_VARIANTS: tuple[Variant, ...] = ("language", "both")
#: The item side ``z_i``: ``P e_i + Q y_i``, content only, ALS factors only, or the bias alone.
ItemSide = Literal["content+cf", "content", "cf", "bias"]
ITEM_SIDES: tuple[ItemSide, ...] = get_args(ItemSide)


@dataclass(frozen=True)
class AdapterConfig:
    """Training settings (module docstring). Every field but ``lambda_grid`` is part of the
    cached adapter's key; ``lambda_grid`` joins the key when it differs from the default."""

    dim: int = 64                    #: size of the taste space (rows of W)
    epochs: int = 15                 #: passes over the training texts
    batch_size: int = 128            #: texts per gradient step
    learning_rate: float = 2e-3      #: Adam's step size
    weight_decay: float = 1e-5       #: Adam's L2 penalty
    descriptions_per_user: int = 10  #: synthetic descriptions written per training user
    like_threshold: float = 4.0      #: ratings ≥ this count as liked
    min_liked: int = 4               #: training users need this many liked items
    validation_fraction: float = 0.15  #: of the training users, for loss, metric and λ
    seed: int = 0                    #: seeds the split, the descriptions and the initial weights
    items: ItemSide = "content+cf"   #: the item side (:data:`ItemSide`)
    hidden: int = 0                  #: 0: linear query map; > 0: W₂ relu(W₁ q) with this width
    request_repeats: int = 4         #: each real request counts as this many synthetic texts
    #: λ for language-only requests; ``None``: chosen on validation users' synthetic texts.
    #: Chosen by five-fold cross-validation on ReDial's training requests, one-standard-error
    #: rule on NDCG@10 (``bench/adapter_cv.py``; README, "Learning from real requests").
    weight: float | None = 1.0
    weight_named: float | None = 0.5  #: λ for requests that name a movie (``None``: as ``weight``)
    #: λ (language only, naming a movie) when no real requests are available to train on: the
    #: synthetic-only adapter helps language-only requests and hurts the others (same bench).
    synthetic_weights: tuple[float, float] = (0.5, 0.0)
    #: The λ values tried when ``weight`` is ``None`` (blend Recall@10 on validation users).
    lambda_grid: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)

    def __post_init__(self) -> None:
        if min(self.dim, self.epochs, self.batch_size, self.descriptions_per_user, self.min_liked) < 1:
            raise ValueError("dim, epochs, batch_size, descriptions_per_user and min_liked must be ≥ 1")
        if not 0 < self.validation_fraction < 1:
            raise ValueError("validation_fraction must be between 0 and 1")
        if self.items not in ITEM_SIDES:
            raise ValueError(f"items must be one of {', '.join(ITEM_SIDES)} (got {self.items!r})")
        if not self.lambda_grid or any(lam < 0 for lam in self.lambda_grid):
            raise ValueError("lambda_grid needs at least one λ ≥ 0")

    def key_fields(self) -> dict[str, Any]:
        """The fields that identify a trained adapter (the cache key; see the class docstring)."""
        fields = asdict(self)
        if self.lambda_grid == AdapterConfig.__dataclass_fields__["lambda_grid"].default:
            del fields["lambda_grid"]    # the default grid keeps the keys of existing caches
        return fields


@dataclass(frozen=True, eq=False)
class Adapter:
    """A trained adapter ready for inference (arrays read-only).

    ``scores(q)`` is one ``n × d`` mat-vec (well under a millisecond).
    """

    query_map: np.ndarray      #: W, d × D (or W₂, d × H after a hidden layer)
    item_matrix: np.ndarray    #: z_i = P e_i + Q y_i, n × d
    item_bias: np.ndarray      #: β, n
    weight: float              #: λ in r (module docstring)
    key: str
    report: dict[str, Any] = field(default_factory=dict)
    hidden_map: np.ndarray | None = None   #: W₁, H × D, for the two-layer variant
    weight_named: float | None = None      #: λ for requests naming a movie (None: ``weight``)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """``a_i`` for every item."""
        h = query if self.hidden_map is None else np.maximum(self.hidden_map @ query, 0.0)
        return self.item_matrix @ (self.query_map @ h) + self.item_bias

    def term(self, query: np.ndarray, r0: np.ndarray, *, names_movie: bool = False) -> np.ndarray:
        """The adapter's additive term of ``r``: ``λ·sd(r⁰)·z(a)`` (λ per request type:
        ``weight_named`` when the request names a movie)."""
        weight = self.weight if not names_movie or self.weight_named is None else self.weight_named
        a = self.scores(query)
        spread = float(a.std())
        if spread == 0 or weight == 0:
            return np.zeros_like(r0)
        return (weight * float(r0.std()) * (a - a.mean()) / spread).astype(np.float32)


def adapter_key(recommender: Recommender, users: np.ndarray, config: AdapterConfig,
                requests: Sequence[tuple[str, Sequence[int]]] = ()) -> str:
    """Cache key: item index, CF factors, knowledge, training users, real requests, config
    and recipe."""
    cf = recommender.cf
    digest = hashlib.sha1()
    knowledge = getattr(recommender, "knowledge", None)
    digest.update(json.dumps([recommender.index.key, config.key_fields(), ADAPTER_RECIPE,
                              knowledge.knowledge.fingerprint if knowledge else "",
                              [[t, [int(i) for i in items]] for t, items in requests]]).encode())
    digest.update(np.ascontiguousarray(cf.item_factors).tobytes())
    digest.update(np.sort(np.asarray(users, dtype=np.int64)).tobytes())
    return digest.hexdigest()[:20]


def adapter_path(cache_dir: Path, recommender: Recommender, users: np.ndarray,
                 config: AdapterConfig = AdapterConfig(),
                 requests: Sequence[tuple[str, Sequence[int]]] = ()) -> Path:
    """Where the adapter for this recommender, user set, real requests and config is cached."""
    key = adapter_key(recommender, users, config, requests)
    return Path(cache_dir) / f"adapter-{recommender.catalogue.name}-{key}.npz"


def load_adapter(path: Path, *, n_items: int | None = None, query_dim: int | None = None) -> Adapter | None:
    """A cached adapter, or ``None`` when absent, damaged or not for this catalogue.

    ``n_items`` / ``query_dim`` (when given) must match the item rows and the query
    embedding size; arrays must fit together. Anything else is ignored with a warning
    (``python -m recsys train-adapter`` trains a new one); never raises.
    """
    stored = load_npz(Path(path), {"query_map": (None, None), "item_matrix": (n_items, None),
                                   "item_bias": (n_items,), "weight": (), "report": ()},
                      optional={"hidden_map": (None, query_dim), "weight_named": ()}, what="adapter")
    if stored is None:
        return None
    query_map, item_matrix, hidden = stored["query_map"], stored["item_matrix"], stored.get("hidden_map")
    problem = None
    if query_map.shape[0] != item_matrix.shape[1] or len(stored["item_bias"]) != len(item_matrix):
        problem = "its arrays do not fit together"
    elif query_dim is not None and (hidden.shape[0] if hidden is not None else query_dim) != query_map.shape[1]:
        problem = f"it expects {query_map.shape[1]}-dimensional queries, not {query_dim}"
    elif hidden is not None and hidden.shape[0] != query_map.shape[1]:
        problem = "its hidden layer does not fit"
    elif not 0 <= float(stored["weight"]) < 1e6:
        problem = f"its weight λ={float(stored['weight'])} is out of range"
    try:
        report_data = json.loads(str(stored["report"])) if problem is None else None
    except ValueError:
        problem = "its training report is garbled"
    if problem is not None or not isinstance(report_data, dict):
        logger.warning("The adapter %s is damaged or stale (%s); ignoring it", Path(path).name,
                       problem or "its training report is garbled")
        return None
    adapter = Adapter(query_map.astype(np.float32), item_matrix.astype(np.float32),
                      stored["item_bias"].astype(np.float32), float(stored["weight"]), Path(path).stem,
                      report_data, None if hidden is None else hidden.astype(np.float32),
                      float(stored["weight_named"]) if "weight_named" in stored else None)
    for array in (adapter.query_map, adapter.item_matrix, adapter.item_bias, adapter.hidden_map):
        if array is not None:
            array.flags.writeable = False
    return adapter


def save_adapter(adapter: Adapter, path: Path) -> None:
    """Write atomically next to the other caches (a failed write is logged, not raised)."""
    extra: dict[str, Any] = {} if adapter.hidden_map is None else {"hidden_map": adapter.hidden_map}
    if adapter.weight_named is not None:
        extra["weight_named"] = np.array(adapter.weight_named, dtype=np.float32)
    save_npz(path, query_map=adapter.query_map, item_matrix=adapter.item_matrix,
             item_bias=adapter.item_bias, weight=np.array(adapter.weight, dtype=np.float32),
             report=np.array(json.dumps(adapter.report)), **extra)


def _votes(recommender: Recommender) -> np.ndarray | None:
    knowledge = getattr(recommender, "knowledge", None)
    return knowledge.knowledge.votes if knowledge is not None else None


#: Environment variable naming a JSONL of real typed requests to train on (ReDial's training
#: split: ``{"request": text, "target_movie_ids": [...]}`` per line).
TRAIN_REQUESTS_ENV = "RECSYS_TRAIN_REQUESTS"

#: At most this many real requests train the adapter; a larger file is sampled (the requests
#: whose ``sha1(conversation id)`` is smallest, in file order: seeded, stable across runs and
#: library versions). Why: the first index build must stay within about five minutes on two
#: cores, and 1,129 requests (×4) plus 4,110 synthetic texts train in about three; a full
#: ReDial download maps to ~8,000. 1,200 is about the size measured (the shared training file);
#: neither the training time nor the gain was measured beyond it. The λ per request type was
#: also chosen by cross-validation at that size.
MAX_TRAIN_REQUESTS = 1_200

RequestsKind = Literal["env", "file", "download", "none"]


@dataclass(frozen=True)
class RequestsSource:
    """Where the adapter's real requests come from (:func:`training_requests_source`)."""

    kind: RequestsKind    #: ``$RECSYS_TRAIN_REQUESTS``, a path given, ReDial downloaded, or none
    path: Path | None

    def describe(self) -> str:
        """One line for people: ``"ReDial's training split, downloaded (…/redial-train-….jsonl)"``."""
        if self.kind == "none" or self.path is None:
            return ("none: synthetic descriptions of MovieLens users only (run `python -m recsys "
                    "fetch-requests`, or set RECSYS_TRAIN_REQUESTS)")
        if self.kind == "download":
            return f"ReDial's training split, downloaded ({self.path})"
        where = "RECSYS_TRAIN_REQUESTS" if self.kind == "env" else "the file given"
        return f"{self.path.name} ({where})"


class TrainingRequest(NamedTuple):
    """One real request the adapter trains on."""

    key: str                 #: the conversation id (ReDial), else the record's ``id``; "" if none
    text: str
    items: list[int]         #: catalogue indices of the movies the person went on to like


def conversation_key(record_id: Any, conversation_id: Any = None) -> str:
    """The dialogue a request comes from: ``conversation_id`` when given, else the last part
    of a ReDial id (``"redial-train-418"`` / ``"redial-valid-418"`` → ``"418"``), else the id."""
    if conversation_id is not None and str(conversation_id).strip():
        return str(conversation_id).strip()
    text = "" if record_id is None else str(record_id).strip()
    head, _, tail = text.rpartition("-")
    return tail if head.startswith("redial") and tail else text


def training_requests_source(catalogue: Catalogue, path: str | os.PathLike[str] | None = None, *,
                             cache_dir: str | os.PathLike[str] | None = None) -> RequestsSource:
    """The first of: ``path``; ``$RECSYS_TRAIN_REQUESTS``; ReDial's training requests mapped
    to ``catalogue`` by :func:`recsys.redial_fetch.fetch_requests` in ``cache_dir`` (default
    :func:`recsys.data.default_cache_dir`); none (the adapter then trains on synthetic
    descriptions only)."""
    if path:
        return RequestsSource("file", Path(path).expanduser())
    env = os.environ.get(TRAIN_REQUESTS_ENV, "").strip()
    if env:
        return RequestsSource("env", Path(env).expanduser())
    from recsys.data import default_cache_dir
    from recsys.redial_fetch import requests_path

    cached = requests_path(Path(cache_dir) if cache_dir else default_cache_dir(), catalogue)
    return RequestsSource("download", cached) if cached.is_file() else RequestsSource("none", None)


def training_request_rows(catalogue: Catalogue, path: str | os.PathLike[str] | None = None, *,
                          cache_dir: str | os.PathLike[str] | None = None,
                          limit: int | None = MAX_TRAIN_REQUESTS) -> list[TrainingRequest]:
    """The real requests the adapter trains on, from :func:`training_requests_source`, at most
    ``limit`` of them (:data:`MAX_TRAIN_REQUESTS`; the sample is described there). Lines that
    are not a request record, or whose movies are not in the catalogue, are skipped (counted in
    a warning); a file given by name whose name says ``dev`` or ``test`` is refused (it is
    evaluation data). The file's ids are the loaded catalogue's (``movieId`` / ``item_id``)."""
    source = training_requests_source(catalogue, path, cache_dir=cache_dir)
    if source.path is None:
        return []
    path = source.path
    if source.kind != "download" and ("dev" in path.stem or "test" in path.stem):
        logger.warning("%s looks like an evaluation file; the adapter never trains on it", path)
        return []
    out: list[TrainingRequest] = []
    skipped = 0
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        logger.warning("Training requests %s unreadable (%s); training without them", path, exc)
        return []
    with handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = str(row["request"])
                items = catalogue.indices([int(m) for m in row.get("target_movie_ids", [])])
                key = conversation_key(row.get("id"), row.get("conversation_id"))
            except (ValueError, KeyError, TypeError, AttributeError):
                skipped += 1
                continue
            if items and text.strip():
                out.append(TrainingRequest(key, text, items))
            else:
                skipped += 1
    if skipped:
        logger.warning("%s: %d lines skipped (not a request, or no target movie in the catalogue)",
                       path, skipped)
    if limit is not None and len(out) > limit:
        def rank(row: TrainingRequest) -> str:
            return hashlib.sha1((row.key or row.text).encode("utf-8")).hexdigest()

        chosen = {id(row) for row in sorted(out, key=rank)[:max(0, limit)]}
        logger.info("%s: training on %d of its %d requests (MAX_TRAIN_REQUESTS)", path, limit, len(out))
        out = [row for row in out if id(row) in chosen]
    return out


def training_requests(catalogue: Catalogue, path: str | os.PathLike[str] | None = None, *,
                      cache_dir: str | os.PathLike[str] | None = None) -> list[tuple[str, list[int]]]:
    """Real requests to train on: ``(text, liked item indices)`` of
    :func:`training_request_rows` (``path``, else ``$RECSYS_TRAIN_REQUESTS``, else the
    downloaded ReDial requests in ``cache_dir``; ``[]`` when there are none)."""
    return [(row.text, row.items) for row in training_request_rows(catalogue, path, cache_dir=cache_dir)]


def liked_items(recommender: Recommender, users: np.ndarray, threshold: float) -> dict[int, list[int]]:
    """Per user (among ``users``): catalogue indices of liked items, oldest first."""
    ratings = recommender.catalogue.ratings
    ratings = ratings[ratings["user_id"].isin(users) & (ratings["rating"] >= threshold)]
    ratings = ratings.sort_values(["user_id", "timestamp"], kind="stable")
    index_of = recommender.catalogue.index_of
    out: dict[int, list[int]] = {}
    for user, movie in zip(ratings["user_id"].to_numpy(), ratings["movie_id"].to_numpy()):
        out.setdefault(int(user), []).append(index_of[int(movie)])
    return out


def train_adapter(recommender: Recommender, users: np.ndarray, config: AdapterConfig = AdapterConfig(), *,
                  requests: Sequence[tuple[str, Sequence[int]]] = (),
                  progress: Progress | None = None) -> Adapter:
    """Train the adapter on ``users`` (module docstring); reports validation loss and metric.

    ``requests`` are real typed requests ``(text, liked item indices)`` (ReDial's training
    split): each joins the training texts ``config.request_repeats`` times, as the query text
    the pipeline would embed for it. With ``config.weight`` set, λ is that value and no
    validation search runs.
    """
    import torch

    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    catalogue = recommender.catalogue
    people = frozenset(recommender.builtin_parser.people_tags)
    liked = {u: items for u, items in liked_items(recommender, users, config.like_threshold).items()
             if len(items) >= config.min_liked}
    if len(liked) < 5:
        raise ValueError("Too few training users with liked items to train the adapter.")
    user_ids = np.array(sorted(liked))
    rng.shuffle(user_ids)
    n_val = max(1, int(round(len(user_ids) * config.validation_fraction)))
    val_users, train_users = user_ids[:n_val], user_ids[n_val:]
    if config.items not in ITEM_SIDES:
        raise ValueError(f"items must be one of {ITEM_SIDES}")
    # The item side's ALS factors come from the given users minus the validation users, so
    # the validation users (who choose λ) reach nothing the adapter is built from.
    from recsys.cf import fit_als

    fit_users = np.setdiff1d(np.asarray(users, dtype=np.int64), val_users)
    cf = fit_als(catalogue, recommender.config.als, users=fit_users)

    report(progress, 0.0, "Writing training descriptions")
    texts: list[str] = []
    targets: list[list[int]] = []
    for user in train_users:
        items = liked[int(user)]
        for _ in range(config.descriptions_per_user):
            size = int(rng.integers(3, min(len(items), 15) + 1))
            subset = [items[int(j)] for j in rng.choice(len(items), size=size, replace=False)]
            variant: Variant = "language" if rng.random() < 0.8 else "both"
            texts.append(describe(catalogue, subset, rng, variant, people))
            targets.append(items)
    val_texts, val_history, val_future = [], [], []
    for user in val_users:
        items = liked[int(user)]
        half = len(items) // 2
        for val_variant in VALIDATION_VARIANTS:
            val_texts.append(describe(catalogue, items[:half], rng, val_variant, people))
            val_history.append(items[:half])
            val_future.append(items[half:])

    real_texts: list[str] = []
    for text, request_items in requests:
        items = [int(i) for i in request_items]
        if not items:
            continue
        try:
            query = recommender.builtin_parser.parse(text).query_text
        except ValueError:
            continue
        for _ in range(max(1, config.request_repeats)):
            texts.append(query)
            targets.append(items)
        real_texts.append(query)

    encoder = recommender.encoder
    Q = torch.from_numpy(encoder.encode(texts, progress=scaled(progress, 0.0, 0.45)))
    Qv = torch.from_numpy(encoder.encode(val_texts))
    E = torch.from_numpy(np.array(recommender.index.embeddings, dtype=np.float32))
    Y = torch.from_numpy(np.array(cf.item_factors, dtype=np.float32))
    n_items, dim = E.shape[0], E.shape[1]

    W1 = torch.nn.Linear(dim, config.hidden, bias=False) if config.hidden > 0 else None
    W = torch.nn.Linear(config.hidden or dim, config.dim, bias=False)
    P = torch.nn.Linear(dim, config.dim, bias=False)
    Qf = torch.nn.Linear(Y.shape[1], config.dim, bias=False)
    bias = torch.nn.Parameter(torch.zeros(n_items))
    used = {"content+cf": (P, Qf), "content": (P,), "cf": (Qf,), "bias": ()}[config.items]
    modules = [m for m in (W1, W, *used) if m is not None]
    params = [p for m in modules for p in m.parameters()] + [bias]
    optimiser = torch.optim.Adam(params, lr=config.learning_rate, weight_decay=config.weight_decay)

    def item_side() -> torch.Tensor:
        if config.items == "content":
            return P(E)
        if config.items == "cf":
            return Qf(Y)
        if config.items == "bias":
            return torch.zeros(n_items, config.dim)
        return P(E) + Qf(Y)

    def logits(q: torch.Tensor) -> torch.Tensor:
        h = q if W1 is None else torch.relu(W1(q))
        return W(h) @ item_side().T + bias

    def target_matrix(rows: list[list[int]]) -> torch.Tensor:
        t = torch.zeros(len(rows), n_items)
        for k, items in enumerate(rows):
            t[k, items] = 1.0 / len(items)
        return t

    T = target_matrix(targets)
    Tv = target_matrix(val_future)
    order = np.arange(len(texts))
    history: list[dict[str, float]] = []
    for epoch in range(config.epochs):
        rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            batch = torch.from_numpy(order[start:start + config.batch_size])
            loss = -(T[batch] * torch.log_softmax(logits(Q[batch]), dim=1)).sum(dim=1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
        with torch.no_grad():
            val_loss = float(-(Tv * torch.log_softmax(logits(Qv), dim=1)).sum(dim=1).mean())
        history.append({"epoch": epoch + 1, "train_loss": total / len(order), "val_loss": val_loss})
        report(progress, 0.45 + 0.45 * (epoch + 1) / config.epochs,
               f"Epoch {epoch + 1}/{config.epochs}: train loss {total / len(order):.3f}, "
               f"validation loss {val_loss:.3f}")

    with torch.no_grad():
        query_map = W.weight.detach().numpy().astype(np.float32)
        hidden_map = None if W1 is None else W1.weight.detach().numpy().astype(np.float32)
        item_matrix = item_side().detach().numpy().astype(np.float32)
        item_bias = bias.detach().numpy().astype(np.float32)
    adapter = Adapter(query_map, item_matrix, item_bias, 1.0, "", {}, hidden_map)

    if config.weight is None:
        report(progress, 0.92, "Choosing λ on validation users")
        weight, metrics = _choose_weight(recommender, adapter, cf, fit_users, val_texts, val_history,
                                         val_future, config.lambda_grid)
    else:
        weight, metrics = config.weight, {}
    seconds = time.perf_counter() - started
    summary = {
        "recipe": ADAPTER_RECIPE, "config": asdict(config), "training_users": int(len(train_users)),
        "validation_users": int(len(val_users)), "training_texts": len(texts),
        "trainable_parameters": int(sum(p.numel() for p in params)),
        "final_train_loss": history[-1]["train_loss"], "final_val_loss": history[-1]["val_loss"],
        "val_recall@10": metrics, "weight": weight, "seconds": round(seconds, 1), "history": history,
        "example_descriptions": texts[:5], "real_requests": len(real_texts),
        "weight_named": config.weight_named,
    }
    report(progress, 1.0, "Adapter trained")
    return Adapter(query_map, item_matrix, item_bias, weight, "", summary, hidden_map,
                   config.weight_named)


def _choose_weight(recommender: Recommender, adapter: Adapter, cf: CFModel, fit_users: np.ndarray, texts: list[str],
                   history: list[list[int]], future: list[list[int]], grid: Sequence[float]
                   ) -> tuple[float, dict[str, float]]:
    """λ for the *blend's* Recall@10 on the validation users' synthetic descriptions
    (one-standard-error rule: the smallest λ within one SE of the best).

    The blend there uses ``cf`` and a prior fitted on ``fit_users`` only (never the
    validation users), so the validation users reach nothing that is scored on them.
    """
    from dataclasses import replace

    from recsys.pipeline import pipeline_prior

    catalogue = recommender.catalogue
    ratings = catalogue.ratings
    fit_ratings = ratings[ratings["user_id"].isin(fit_users)]
    validation_rec = type(recommender)(
        catalogue, recommender.encoder, recommender.index,
        cf,
        pipeline_prior(catalogue, recommender.config, _votes(recommender), ratings=fit_ratings),
        recommender.matcher, config=recommender.config, knowledge=recommender.knowledge)
    recall: dict[float, list[float]] = {lam: [] for lam in grid}
    for text, seen, targets in zip(texts, history, future):
        wanted = set(targets)
        for lam in grid:
            validation_rec.adapter = replace(adapter, weight=lam)
            result = validation_rec.recommend(text, explain=False)
            final = result.blend.final.copy()
            final[seen] = -np.inf
            top = top_indices(final, 10, ~np.isfinite(final))
            recall[lam].append(len(wanted.intersection(top.tolist())) / min(10, len(wanted)))
    means_by_lambda = {lam: float(np.mean(v)) for lam, v in recall.items()}
    best = max(means_by_lambda, key=lambda lam: (means_by_lambda[lam], -lam))
    # One-standard-error rule: the smallest λ within one SE of the best. Synthetic
    # descriptions are in-distribution for the adapter, so validation over-trusts it.
    standard_error = float(np.std(recall[best], ddof=1) / np.sqrt(len(recall[best])))
    chosen = min(lam for lam in grid if means_by_lambda[lam] >= means_by_lambda[best] - standard_error)
    metrics = {f"lambda={lam:g}": round(v, 4) for lam, v in means_by_lambda.items()}
    metrics["best_lambda"] = best
    metrics["standard_error"] = round(standard_error, 4)
    return chosen, metrics
