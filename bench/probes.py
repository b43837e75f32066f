"""Probe requests before / after movie knowledge, and a people benchmark.

1. Probes: requests a new user types (people, plots, Chinese, French, a dislike); for each,
   what the intent understood and the top 3, without and with knowledge.
2. People: 24 requests naming an actor or a director (English and Chinese); for each, the
   share of the top 10 that person directed or stars in (credits from the knowledge).

    RECSYS_DATA_DIR=../shared/data/ml-latest-small \\
    RECSYS_METADATA=../shared/data/movie-metadata/ml-latest-small-metadata.jsonl \\
    python bench/probes.py [--out assets/results/probes.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recsys.pipeline import Recommender  # noqa: E402

PROBES = [
    "movies with Tom Hanks from the 90s",
    "推荐几部像《盗梦空间》那样烧脑的电影",
    "喜欢周星驰的喜剧",
    "un film romantique français, pas trop triste",
    "I hate superhero movies. Give me something smart and quiet.",
    "a ghost story set in the past",
    "space ship combat",
    "a clever heist with a twist",
    "Spielberg's films, but nothing with dinosaurs",
    "我喜欢九十年代的科幻片，不要恐怖片",
    "una comedia divertida para ver en familia",
    "我想看关于太空和外星人的电影",
    "不要超级英雄电影，想看烧脑的悬疑片",
    "something like Fight Club but no Brad Pitt",
]

#: (request, person whose films should fill the list)
PEOPLE = [
    ("movies with Tom Hanks", "Tom Hanks"), ("a Brad Pitt fan here", "Brad Pitt"),
    ("directed by Nolan", "Christopher Nolan"), ("Spielberg's films", "Steven Spielberg"),
    ("anything with Meryl Streep", "Meryl Streep"), ("Jim Carrey comedies", "Jim Carrey"),
    ("I love Quentin Tarantino", "Quentin Tarantino"), ("films by Martin Scorsese", "Martin Scorsese"),
    ("Denzel Washington thrillers", "Denzel Washington"), ("something starring Julia Roberts", "Julia Roberts"),
    ("Wes Anderson style movies", "Wes Anderson"), ("Hitchcock classics", "Alfred Hitchcock"),
    ("Leonardo DiCaprio movies", "Leonardo DiCaprio"), ("Sandra Bullock please", "Sandra Bullock"),
    ("movies by the Coen brothers, Joel Coen", "Joel Coen"), ("Keanu Reeves action", "Keanu Reeves"),
    ("Pixar's Pete Docter", "Pete Docter"), ("Samuel Jackson being cool", "Samuel L. Jackson"),
    ("想看汤姆·汉克斯的电影", "Tom Hanks"), ("诺兰导演的电影", "Christopher Nolan"),
    ("宫崎骏的动画", "Hayao Miyazaki"), ("成龙的动作片", "Jackie Chan"), ("周星驰的电影", "Stephen Chow"),
    ("金凯瑞的喜剧", "Jim Carrey"),
]


def top(rec: Recommender, text: str, k: int = 10):
    result = rec.recommend(text, k=k)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rec = Recommender.load()
    if rec.knowledge is None or not rec.knowledge.knowledge.available:
        print("no movie knowledge loaded: set RECSYS_METADATA", file=sys.stderr)
        return 1
    plain = Recommender(rec.catalogue, rec.encoder, rec.index, rec.cf, rec.baseline, rec.matcher,
                        config=rec.config, knowledge=None)
    plain.adapter = rec.adapter
    out: dict[str, object] = {"probes": [], "people": []}
    print("| request | without knowledge: understood → top 3 | with knowledge: understood → top 3 |")
    print("|---|---|---|")
    for text in PROBES:
        cells = [text]
        row: dict[str, object] = {"request": text}
        for name, engine in (("without", plain), ("with", rec)):
            result = top(engine, text, 3)
            i = result.intent
            understood = []
            if i.liked_genres:
                understood.append("+" + "/".join(i.liked_genres))
            if i.disliked_genres:
                understood.append("−" + "/".join(i.disliked_genres))
            if i.people:
                understood.append("people: " + ", ".join(i.people))
            if i.disliked_people:
                understood.append("not: " + ", ".join(i.disliked_people))
            if i.titles:
                understood.append("titles: " + ", ".join(t.title for t in i.titles))
            if i.keywords or i.disliked_keywords:
                understood.append("keywords: " + ", ".join(list(i.keywords) + [f"−{k}" for k in i.disliked_keywords]))
            if i.era:
                understood.append(f"era {i.era.label}")
            titles = [item.label for item in result.items]
            cells.append(f"{'; '.join(understood) or '(nothing)'} → {', '.join(titles)}")
            row[name] = {"understood": understood, "top": titles}
        out["probes"].append(row)  # type: ignore[union-attr]
        print("| " + " | ".join(cells) + " |")

    know = rec.knowledge.knowledge
    print("\n| request | person | found | share of top 10 credited (with knowledge) | without |")
    print("|---|---|---|---|---|")
    shares = []
    for text, person in PEOPLE:
        values = []
        found = None
        for engine in (rec, plain):
            result = top(engine, text, 10)
            credited = [item for item in result.items
                        if person in know.directors[item.index] or person in know.cast[item.index]]
            values.append(len(credited) / max(1, len(result.items)))
            if engine is rec:
                found = person in result.intent.people
        shares.append(values)
        out["people"].append({"request": text, "person": person, "found": found,  # type: ignore[union-attr]
                              "share_with": values[0], "share_without": values[1]})
        print(f"| {text} | {person} | {'yes' if found else 'no'} | {values[0]:.1f} | {values[1]:.1f} |")
    mean_with = sum(v[0] for v in shares) / len(shares)
    mean_without = sum(v[1] for v in shares) / len(shares)
    mostly = sum(v[0] >= 0.5 for v in shares)
    print(f"\nmean share of the top 10 by the named person: {mean_with:.2f} with knowledge, "
          f"{mean_without:.2f} without; {mostly}/{len(shares)} requests have at least half")
    out["summary"] = {"mean_share_with": mean_with, "mean_share_without": mean_without,
                      "at_least_half": mostly, "n": len(shares)}
    if args.out:
        Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
