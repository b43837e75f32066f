"""Movie knowledge: people, plot words, Chinese titles — and what a user sees from them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recsys.knowledge import (KnowledgeError, KnowledgeIndex, LexicalIndex, PeopleIndex,
                              load_knowledge, normalise_name, plot_words, tokens)

#: Knowledge for some movies of the tiny catalogue (tests/conftest.py); fictional where it helps.
TINY_KNOWLEDGE = {
    1: dict(director=["Lana Wachowski"], cast=["Keanu Reeves", "Laurence Fishburne", "Carrie-Anne Moss"],
            keywords=["simulation", "hacker"], overview="A hacker learns the world is a simulation.",
            vote_count=26000, title_zh="黑客帝国"),
    2: dict(director=["Lana Wachowski"], cast=["Keanu Reeves", "Laurence Fishburne"],
            keywords=["sequel"], overview="Neo fights the machines again.", vote_count=9000),
    3: dict(director=["Christopher Nolan"], cast=["Leonardo DiCaprio", "Joseph Gordon-Levitt", "Elliot Page"],
            keywords=["dream", "heist"], overview="A thief steals secrets from dreams.", vote_count=36000),
    4: dict(director=["Christopher Nolan"], cast=["Matthew McConaughey", "Anne Hathaway"],
            keywords=["space travel", "wormhole"], overview="Explorers travel through a wormhole.",
            vote_count=34000, title_zh="星际穿越"),
    17: dict(director=["Roger Michell"], cast=["Julia Roberts", "Hugh Grant"],
             keywords=["bookshop", "london"], overview="A bookshop owner falls for a film star.",
             vote_count=5000),
    19: dict(director=["Garry Marshall"], cast=["Richard Gere", "Julia Roberts"],
             keywords=["prostitute", "rich man"], overview="A rich man hires an escort.", vote_count=6000),
    26: dict(director=["Michael Mann"], cast=["Al Pacino", "Robert De Niro", "Val Kilmer"],
             keywords=["heist", "bank robbery", "los angeles"],
             overview="A detective hunts a crew of professional bank robbers.", vote_count=7000),
    27: dict(director=["Francis Ford Coppola"], cast=["Marlon Brando", "Al Pacino", "James Caan"],
             keywords=["mafia", "family"], overview="The aging patriarch of a crime dynasty.",
             vote_count=20000, title_zh="教父"),
    23: dict(director=["Stanley Kubrick"], cast=["Jack Nicholson", "Shelley Duvall"],
             keywords=["hotel", "ghost"], overview="A family heads to an isolated hotel for the winter.",
             vote_count=17000),
}


def write_knowledge(folder: Path, *, broken_line: bool = False) -> Path:
    path = folder / "knowledge.jsonl"
    lines = [json.dumps({"movieId": m, **fields, "director_src": "imdb5000",
                         "overview_src": "tmdb_api_ml"}) for m, fields in TINY_KNOWLEDGE.items()]
    if broken_line:
        lines.insert(2, '{"movieId": 5, "overview": "cut off')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def knowledge_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_knowledge(tmp_path_factory.mktemp("knowledge"))


@pytest.fixture(scope="module")
def known_recommender(tiny_recommender, knowledge_file: Path):
    """The tiny pipeline with knowledge (the shared heavy parts of ``tiny_recommender``)."""
    from recsys.pipeline import Recommender, pipeline_prior

    base = tiny_recommender
    knowledge = load_knowledge(base.catalogue, knowledge_file)
    index = KnowledgeIndex.build(knowledge, base.catalogue)
    prior = pipeline_prior(base.catalogue, base.config, knowledge.votes)
    return Recommender(base.catalogue, base.encoder, base.index, base.cf, prior, base.matcher,
                       config=base.config, knowledge=index)


# ----------------------------------------------------------------------------- loading

def test_load_aligns_records_and_skips_a_broken_line(tiny_catalogue, tmp_path: Path, caplog) -> None:
    path = write_knowledge(tmp_path, broken_line=True)
    knowledge = load_knowledge(tiny_catalogue, path)
    i = tiny_catalogue.index_of[3]
    assert knowledge.available
    assert knowledge.directors[i] == ("Christopher Nolan",)
    assert knowledge.cast[i][0] == "Leonardo DiCaprio"
    assert "dream" in knowledge.keywords[i]
    assert knowledge.votes[i] == 36000
    assert knowledge.title_zh[tiny_catalogue.index_of[4]] == "星际穿越"
    assert knowledge.overview[tiny_catalogue.index_of[5]] == ""           # the broken line
    assert "not a metadata record" in caplog.text
    assert 0 < knowledge.coverage["director"] < 1
    assert any("TMDB" in line for line in knowledge.attributions)


def test_missing_or_foreign_files_say_so(tiny_catalogue, tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="not found"):
        load_knowledge(tiny_catalogue, tmp_path / "nope.jsonl")
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"movieId": 999999, "overview": "x"}) + "\n")
    with pytest.raises(KnowledgeError, match="no record matches"):
        load_knowledge(tiny_catalogue, other)


def test_no_knowledge_means_empty_fields(tiny_catalogue) -> None:
    knowledge = load_knowledge(tiny_catalogue, None)
    assert not knowledge.available
    assert knowledge.votes.sum() == 0 and knowledge.directors[0] == ()


# ----------------------------------------------------------------------------- people

def people() -> PeopleIndex:
    directors = [("Christopher Nolan",), ("Christopher Nolan",), ("Christopher Nolan",), ("Steven Spielberg",),
                 ("Steven Spielberg",), ("Steven Spielberg",), ()]
    cast = [("Leonardo DiCaprio", "Tom Hardy"), (), (), ("Tom Hanks",), ("Tom Hanks", "Matt Damon"),
            (), ("Samuel L. Jackson", "Penélope Cruz")]
    return PeopleIndex(directors, cast)


def test_people_found_by_full_name_in_any_case_and_without_accents_or_middle_initials() -> None:
    found = people().find("I love tom hanks and Penelope Cruz, also anything with samuel jackson")
    assert [m.name for m in found] == ["Tom Hanks", "Penélope Cruz", "Samuel L. Jackson"]
    assert found[0].surface == "tom hanks"


def test_surname_alone_only_when_capitalised_and_unambiguous() -> None:
    idx = people()
    assert [m.name for m in idx.find("Spielberg's films, directed by Nolan")] == \
        ["Steven Spielberg", "Christopher Nolan"]
    assert idx.find("a nolan film") == []            # lower-case surname: too risky
    assert idx.find("Hardy boys") == []               # Tom Hardy has one film here


def test_chinese_names_of_well_known_people() -> None:
    assert [m.name for m in people().find("想看诺兰的电影")] == ["Christopher Nolan"]


def test_people_scores_follow_billing() -> None:
    idx = people()
    scores = idx.scores(["Tom Hanks"], 7)
    assert scores[3] == scores[4] == 1.0 and scores[0] == 0
    directed, _ = idx.films("christopher nolan")
    assert sorted(directed.tolist()) == [0, 1, 2]


def test_normalise_name() -> None:
    assert normalise_name("Samuel L. Jackson") == "samuel l jackson"
    assert normalise_name("Penélope Cruz") == "penelope cruz"


# ----------------------------------------------------------------------------- plot words

def test_bm25_ranks_the_matching_plot_first() -> None:
    docs = [tokens("ghost haunted house ghost"), tokens("bank heist crew"), tokens("space ship battle")]
    lex = LexicalIndex(docs)
    scores = lex.scores(["heist"])
    assert int(np.argmax(scores)) == 1 and scores.max() == 1.0
    assert lex.scores(["unknownword"]).sum() == 0


def test_plot_words_drop_filler_and_named_things() -> None:
    words = plot_words("I want a good movie about a ghost story, like Heat with Al Pacino",
                       exclude=["Heat", "Al Pacino"])
    assert words == ["ghost", "story"]


# ----------------------------------------------------------------------------- in the pipeline

def test_a_request_naming_an_actor_gets_their_films(known_recommender) -> None:
    result = known_recommender.recommend("something with Julia Roberts", k=3)
    assert result.intent.people == ("Julia Roberts",)
    assert {item.movie_id for item in result.items[:2]} == {17, 19}
    assert "stars Julia Roberts" in result.items[0].explanation


def test_a_director_request_says_directed_by(known_recommender) -> None:
    result = known_recommender.recommend("films by Christopher Nolan", k=3)
    assert {item.movie_id for item in result.items[:2]} == {3, 4}
    assert any("directed by Christopher Nolan" in item.explanation for item in result.items[:2])
    assert result.intent.liked_genres == ()           # no genre invented from a name


def test_an_unwanted_actor_pushes_their_films_down(known_recommender) -> None:
    plain = known_recommender.recommend("a crime movie", k=10)
    without = known_recommender.recommend("a crime movie, but no Al Pacino", k=10)
    assert without.intent.disliked_people == ("Al Pacino",)
    cat = known_recommender.catalogue

    def position(result, movie: int) -> int:
        order = [int(cat.movie_ids[i]) for i in result.blend.ranking]
        return order.index(movie) if movie in order else len(cat)

    assert position(plain, 27) < 5                  # The Godfather is near the top of a crime request
    for movie in (26, 27):                          # both star Al Pacino
        assert position(without, movie) > position(plain, movie)
    assert all(item.movie_id not in (26, 27) for item in without.items[:3])


def test_plot_words_reach_the_list_and_the_explanation(known_recommender) -> None:
    result = known_recommender.recommend("a movie about a wormhole", k=3)
    assert result.items[0].movie_id == 4
    assert "“wormhole”" in result.items[0].explanation


def test_chinese_titles_are_found_and_not_recommended_back(known_recommender) -> None:
    result = known_recommender.recommend("推荐几部像《星际穿越》那样的电影", k=5)
    assert [t.movie_id for t in result.intent.titles] == [4]
    assert 4 not in {item.movie_id for item in result.items}
    built_in = known_recommender.recommend("我喜欢盗梦空间", k=5)     # from the built-in list
    assert [t.movie_id for t in built_in.intent.titles] == [3]


def test_without_knowledge_the_pipeline_still_answers(tiny_recommender) -> None:
    result = tiny_recommender.recommend("something with Julia Roberts", k=3)
    assert len(result.items) == 3
    assert "people" not in result.relevance.components


def test_a_generic_catalogue_brings_its_own_knowledge(tmp_path: Path) -> None:
    """items.csv with description / people / popularity columns: people are found in requests
    and descriptions feed the plot-word index, with no metadata file at all."""
    from recsys.catalogue import build_catalogue
    from recsys.data import load_dataset
    from recsys.knowledge import Knowledge

    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "items.csv").write_text(
        "item_id,title,year,categories,description,people,popularity\n"
        "1,Dune,1965,Science Fiction,A desert planet and its spice,Frank Herbert,90\n"
        "2,Emma,1815,Romance,A matchmaker in a small village,Jane Austen,70\n"
        "3,Persuasion,1817,Romance,A second chance at love,Jane Austen,40\n", encoding="utf-8")
    (folder / "interactions.csv").write_text(
        "user_id,item_id\n" + "".join(f"u{u},{i}\n" for u in range(6) for i in (1, 2, 3)), encoding="utf-8")
    catalogue = build_catalogue(load_dataset(folder))
    knowledge = Knowledge.from_catalogue(catalogue)
    index = KnowledgeIndex.build(knowledge, catalogue)
    assert knowledge.available and knowledge.votes.tolist() == [90, 70, 40]
    assert [m.name for m in index.people.find("anything by jane austen")] == ["Jane Austen"]
    assert int(np.argmax(index.lexical.scores(["spice"]))) == catalogue.index_of[1]
