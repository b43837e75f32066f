"""Explanations (recsys.explain): rows whose parts add up, reasons strongest first."""

from __future__ import annotations

import pytest

from recsys.explain import EXPLANATION_REASONS, Explainer


def test_rows_add_up_and_reasons_are_strongest_first(tiny_recommender) -> None:
    result = tiny_recommender.recommend("funny animated movies like Toy Story", k=5)
    assert isinstance(result.explainer, Explainer)
    for n, item in enumerate(result.items, 1):
        assert item.rank == n
        assert sum(item.contributions) == pytest.approx(item.score, abs=1e-6)
        weights = [r.weight for r in item.reasons]
        assert weights == sorted(weights, reverse=True)
        assert item.explanation == "; ".join(r.text for r in item.reasons[:EXPLANATION_REASONS])


def test_the_explainer_alone_rebuilds_the_same_rows(tiny_recommender) -> None:
    result = tiny_recommender.recommend("animated comedy", k=4)
    again = result.explainer.items(result, result.blend, 4)
    assert again == result.items
    assert result.explainer.items(result, result.blend, 2) == result.items[:2]
