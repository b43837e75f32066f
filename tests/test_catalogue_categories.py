"""A catalogue's own categories are request words: liked, negated, plural — and the list obeys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recsys import cli

SHOP = """item_id,title,categories,description
1,Rose pruning shears,Garden|Tools,Sharp shears for roses and hedges.
2,Raised garden bed,Garden,A cedar bed for vegetables.
3,Watering can,Garden,A two-gallon can with a long spout.
4,Chef's knife,Kitchen|Tools,An eight-inch knife for chopping.
5,Cast iron skillet,Kitchen,A pan that sears and bakes.
6,Espresso maker,Kitchen,Stovetop coffee for two.
7,Catan,Board games,Trade and build on an island.
8,Ticket to Ride,Board games,Claim railway routes across a map.
9,Chess set,Board games,A wooden set with a folding board.
10,Cordless drill,Tools,A drill with two batteries.
"""


def write_shop(folder: Path) -> Path:
    """The shop catalogue in ``folder``: its items and three groups of five shoppers (garden
    and tools, kitchen, board games), one implicit interaction per item they bought."""
    folder.mkdir(parents=True)
    (folder / "items.csv").write_text(SHOP, encoding="utf-8")
    groups = [[1, 2, 3, 10], [4, 5, 6], [7, 8, 9]]
    plays = ["user_id,item_id"] + [f"u{g}-{u},{i}" for g, items in enumerate(groups)
                                   for u in range(5) for i in items]
    (folder / "interactions.csv").write_text("\n".join(plays) + "\n", encoding="utf-8")
    return folder


@pytest.fixture()
def shop(tmp_path: Path, encoder, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    # this shop's ids are not MovieLens movieIds: the MovieLens knowledge and ReDial requests
    # that the rest of the suite sets up do not apply to it
    for name in ("RECSYS_DATA_DIR", "RECSYS_METADATA", "RECSYS_TRAIN_REQUESTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("recsys.pipeline.TextEncoder", lambda *args, **kwargs: encoder)
    folder = write_shop(tmp_path / "shop")
    return ["--data", str(folder), "--cache-dir", str(tmp_path / "cache")]


def _ask(args: list[str], text: str, capsys) -> dict:
    assert cli.main([*args, "recommend", text, "--k", "3", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_category_named_in_the_request_is_liked_and_fills_the_list(shop, capsys) -> None:
    result = _ask(shop, "a gift for someone who loves gardens", capsys)
    assert result["intent"]["liked_genres"] == ["Garden"]
    assert all("Garden" in item["genres"] for item in result["items"])


def test_a_negated_category_is_excluded(shop, capsys) -> None:
    result = _ask(shop, "something for a rainy evening at home, no board games", capsys)
    assert "Board games" in result["intent"]["disliked_genres"]
    assert not any("Board games" in item["genres"] for item in result["items"])


def test_several_word_categories_match_singular_and_plural(shop, capsys) -> None:
    result = _ask(shop, "a board game for the family, nothing from the kitchen", capsys)
    assert result["intent"]["liked_genres"] == ["Board games"]
    assert result["intent"]["disliked_genres"] == ["Kitchen"]
    genres = [item["genres"] for item in result["items"]]
    assert "Board games" in genres[0] and not any("Kitchen" in g for g in genres)


def test_index_speaks_of_items_and_interactions(shop, capsys) -> None:
    assert cli.main([*shop, "index"]) == 0
    out = capsys.readouterr().out
    assert "10 items, 50 interactions" in out and "exact search" in out
    assert "movies" not in out and "ratings" not in out

