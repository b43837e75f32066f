"""The catalogue derived from raw MovieLens frames."""

from __future__ import annotations


def test_titles_years_genres_tags_and_stats(tiny_catalogue):
    cat = tiny_catalogue
    i = cat.index_of[1]
    assert cat.display_titles[i] == "The Matrix" and cat.years[i] == 1999
    assert cat.label(i) == "The Matrix (1999)"
    assert cat.genres[i] == ("Action", "Sci-Fi", "Thriller")
    assert "cyberpunk" in cat.tags[i]
    assert cat.n_ratings.sum() == len(cat.ratings)
    assert 0 < cat.mean_rating[i] <= 5
    assert set(cat.items_with_genres(["Horror"]).nonzero()[0]) == set(cat.indices([5, 6, 23, 24, 25]))
    assert set(cat.tag_index["pixar"].tolist()) == set(cat.indices([11, 12, 13, 14, 29]))


def test_catalogue_tags_come_first_then_user_tags_fill_up(tiny_dir):
    from dataclasses import replace

    from recsys.catalogue import TAGS_PER_MOVIE, build_catalogue
    from recsys.data import load_dataset

    raw = load_dataset(tiny_dir)
    movies = raw.movies.assign(tags="", description="", people="")
    movies.loc[0, ["tags", "description", "people"]] = ["Neo|Bullet Time|neo", "Red pill or blue.",
                                                       "Keanu Reeves|Carrie-Anne Moss"]
    movies.loc[1, "tags"] = "|".join(f"t{k}" for k in range(TAGS_PER_MOVIE + 2))
    cat = build_catalogue(replace(raw, movies=movies, domain="items"))

    # own tags in their order (cleaned, no repeats), then the most-used user tags up to 6 in all
    assert cat.tags[0] == ("neo", "bullet time", "cyberpunk", "virtual reality")
    assert len(cat.tags[1]) == TAGS_PER_MOVIE + 2  # a catalogue's own tags are all kept
    assert cat.tags[2] == ("dreams", "mind-bending")  # no own tags: user tags as before
    assert cat.descriptions[0] == "Red pill or blue."
    assert cat.people[0] == ("Keanu Reeves", "Carrie-Anne Moss")
    assert cat.domain == "items" and cat.nouns.items == "items"
