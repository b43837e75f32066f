"""Synthetic catalogues for the scale benchmark (``bench/scale.py``), in the generic layout.

    python bench/scale_data.py OUT_DIR --items 1000000 [--interactions 10000000] [--seed 0]

Writes ``OUT_DIR/items.parquet`` (``item_id, title, year, categories, description, tags,
people, popularity``) and ``OUT_DIR/interactions.parquet`` (``user_id, item_id``: implicit
feedback). Item texts are short English phrases drawn from small word lists (titles of 2–4
words, a one-sentence description, 1–3 of 24 categories, 0–3 tags, 0–2 people), so the
encoder sees realistic token counts and the ANN index sees clustered, not uniform, vectors.

Interactions follow power laws on both sides: item popularity ∝ rank^−1.0 (a Zipf head,
a long tail nobody touches much) and user activity ∝ rank^−0.8, about 40 interactions per
user on average; (user, item) repeats are dropped. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CATEGORIES = ("Garden", "Kitchen", "Outdoor", "Travel", "Books", "Music", "Toys", "Sports",
              "Fitness", "Office", "Beauty", "Health", "Pets", "Baby", "Tools", "Auto",
              "Games", "Art", "Crafts", "Home", "Lighting", "Audio", "Camera", "Fashion")
ADJECTIVES = ("silent", "golden", "broken", "hidden", "electric", "wild", "quiet", "bright",
              "ancient", "modern", "tiny", "giant", "gentle", "fierce", "lonely", "happy",
              "dark", "frozen", "burning", "lost", "secret", "final", "crimson", "velvet",
              "iron", "paper", "glass", "silver", "midnight", "summer", "winter", "urban",
              "rustic", "classic", "smart", "portable", "durable", "soft", "heavy", "light")
NOUNS = ("river", "garden", "machine", "city", "forest", "ocean", "mountain", "kitchen",
         "lamp", "chair", "story", "journey", "song", "engine", "island", "bridge", "window",
         "letter", "garden hose", "backpack", "camera", "guitar", "puzzle", "blanket", "kettle",
         "bicycle", "notebook", "mirror", "clock", "tent", "boots", "jacket", "speaker",
         "planet", "castle", "harbor", "valley", "desert", "meadow", "station")
VERBS = ("brings", "keeps", "turns", "holds", "lights", "carries", "shapes", "finds",
         "builds", "guards", "opens", "warms", "cleans", "plays", "tracks", "measures")
PURPOSES = ("for long trips", "for small spaces", "for the whole family", "for beginners",
            "for rainy days", "for busy mornings", "for quiet evenings", "for the garden",
            "for gifts", "for professionals", "for kids", "for weekend projects")
FIRST = ("Anna", "Ben", "Chen", "Dara", "Elif", "Femi", "Gus", "Hana", "Ivan", "Jia",
         "Kofi", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara")
LAST = ("Smith", "Garcia", "Wang", "Okafor", "Novak", "Silva", "Kim", "Muller", "Rossi",
        "Haddad", "Berg", "Tanaka", "Costa", "Dubois", "Larsen", "Patel", "Moreau", "Ito")


def _pick(rng: np.random.Generator, words: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(words, dtype=object)[rng.integers(0, len(words), n)]


def items_table(n: int, seed: int) -> pa.Table:
    """``n`` synthetic items (module docstring)."""
    rng = np.random.default_rng(seed)
    adj, noun, adj2, noun2 = (_pick(rng, w, n) for w in (ADJECTIVES, NOUNS, ADJECTIVES, NOUNS))
    shape = rng.integers(0, 3, n)
    titles = np.where(shape == 0, "The " + adj + " " + noun,
                      np.where(shape == 1, adj + " " + noun + " of the " + noun2,
                               noun + " and the " + adj2 + " " + noun2))
    titles = np.asarray([t[:1].upper() + t[1:] for t in titles], dtype=object)
    cat_count = rng.integers(1, 4, n)
    cats = rng.integers(0, len(CATEGORIES), (n, 3))
    categories = ["|".join(dict.fromkeys(CATEGORIES[c] for c in row[:k]))
                  for row, k in zip(cats, cat_count)]
    desc = ("A " + _pick(rng, ADJECTIVES, n) + " " + _pick(rng, NOUNS, n) + " that "
            + _pick(rng, VERBS, n) + " the " + _pick(rng, ADJECTIVES, n) + " "
            + _pick(rng, NOUNS, n) + ", " + _pick(rng, PURPOSES, n) + ".")
    tag_words = _pick(rng, ADJECTIVES, (n * 3))
    tag_count = rng.integers(0, 4, n)
    tags = ["|".join(dict.fromkeys(tag_words[3 * i:3 * i + k])) for i, k in enumerate(tag_count)]
    people_count = rng.integers(0, 3, n)
    firsts, lasts = _pick(rng, FIRST, 2 * n), _pick(rng, LAST, 2 * n)
    people = ["|".join(f"{firsts[2 * i + j]} {lasts[2 * i + j]}" for j in range(k))
              for i, k in enumerate(people_count)]
    return pa.table({
        "item_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "title": pa.array(titles.tolist(), pa.string()),
        "year": pa.array(rng.integers(1990, 2026, n).astype(np.int64)),
        "categories": pa.array(categories, pa.string()),
        "description": pa.array(desc.tolist(), pa.string()),
        "tags": pa.array(tags, pa.string()),
        "people": pa.array(people, pa.string()),
        "popularity": pa.array(np.round(rng.pareto(1.5, n) * 10, 2)),
    })


def interactions_table(n_items: int, n_interactions: int, seed: int) -> pa.Table:
    """About ``n_interactions`` distinct (user, item) pairs with power-law items and users."""
    rng = np.random.default_rng(seed + 1)
    n_users = max(10, n_interactions // 40)
    item_rank = rng.permutation(n_items)                 # which item holds popularity rank r
    item_p = 1.0 / np.arange(1, n_items + 1) ** 1.0
    item_cdf = np.cumsum(item_p / item_p.sum())
    user_p = 1.0 / np.arange(1, n_users + 1) ** 0.8
    user_cdf = np.cumsum(user_p / user_p.sum())
    draws = int(n_interactions * 1.5)                    # repeats are dropped below
    users = np.searchsorted(user_cdf, rng.random(draws), side="right").clip(0, n_users - 1)
    items = item_rank[np.searchsorted(item_cdf, rng.random(draws), side="right").clip(0, n_items - 1)]
    pairs = np.unique(users.astype(np.int64) * n_items + items)
    if len(pairs) > n_interactions:
        pairs = np.sort(rng.choice(pairs, n_interactions, replace=False))
    return pa.table({"user_id": pa.array(pairs // n_items + 1),
                     "item_id": pa.array(pairs % n_items + 1)})


def write(out: Path, n_items: int, n_interactions: int, seed: int = 0) -> Path:
    """Write both files into ``out`` (created); returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(items_table(n_items, seed), out / "items.parquet")
    pq.write_table(interactions_table(n_items, n_interactions, seed), out / "interactions.parquet")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--interactions", type=int, default=None,
                        help="default: 10 per item (1M items: 10M interactions)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    write(args.out, args.items, args.interactions or 10 * args.items, args.seed)
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()


def synthetic_vectors(n: int, dim: int, seed: int = 0, clusters: int = 2000,
                      spread: float = 0.6) -> np.ndarray:
    """``float32[n, dim]`` unit vectors in ``clusters`` clusters of power-law sizes (a
    stand-in for real item embeddings where encoding them all would take hours; nearest-
    neighbour search on these is harder than on real text embeddings, which share a few
    dominant directions)."""
    rng = np.random.default_rng(seed + 2)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    sizes = 1.0 / np.arange(1, clusters + 1) ** 0.7
    which = rng.choice(clusters, n, p=sizes / sizes.sum())
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 65536):
        stop = min(n, start + 65536)
        block = centres[which[start:stop]] + spread * rng.standard_normal((stop - start, dim)).astype(np.float32)
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out
