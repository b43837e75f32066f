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
