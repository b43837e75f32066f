"""Stage tables (``recsys.evaluation.stages``, ``collect``): exact re-blending, partial sorts."""

from __future__ import annotations

import numpy as np

from recsys.evaluation.collect import collect_stages
from recsys.evaluation.metrics import accuracy_names
from recsys.evaluation.requests import EvalRequest
from recsys.evaluation.stages import top_order


def test_partial_top_order_equals_a_stable_sort_even_with_ties():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 20, size=(50, 300)).astype(np.float64)   # many ties
    keys[::7, 250:] = np.inf
    expected = np.argsort(keys, axis=1, kind="stable")[:, :40]
    assert np.array_equal(top_order(keys, 40), expected)


def test_stored_stage_scores_reblend_exactly_like_the_pipeline(tiny_recommender):
    requests = [EvalRequest("a", "funny romantic comedy", targets=(17, 18), named=(19,)),
                EvalRequest("b", "space sci-fi like Interstellar, no horror", targets=(3, 9)),
                EvalRequest("c", "something for the kids", targets=(11, 13), named=(12, 29))]
    table = collect_stages(tiny_recommender, requests, length=20)
    assert len(table) == 3
    cat = tiny_recommender.catalogue
    for n, request in enumerate(requests):
        result = tiny_recommender.recommend(request.text, k=5, explain=False)
        protocol = set(cat.indices(list(request.named)))
        for weights in [(0.5, 0.3, 0.2), (1, 0, 0), (0, 1, 0), (0, 0, 1), (0.2, 0.2, 0.6)]:
            expected = [i for i in result.reblend(weights, explain=False).blend.ranking
                        if i not in protocol][:20]
            got = table.blend_ranking(weights)[n]
            assert got[got >= 0].tolist() == expected
        for system in ("random", "popularity", "llm", "cf"):
            ranked = table.fixed[system][n]
            assert not protocol & set(ranked.tolist())
    # Beyond accuracy: a disliked genre counts as a violation, only where one was stated
    assert table.constrained.tolist() == [False, True, False]
    metrics = table.metrics(table.fixed["popularity"], accuracy_names(10), 10)
    assert np.isnan(metrics["violations@10"][0]) and 0 <= metrics["violations@10"][1] <= 1
    blend = table.metrics(table.blend_ranking((0.5, 0.3, 0.2)), accuracy_names(10), 10)
    assert blend["violations@10"][1] == 0.0            # "no horror" is honoured by the blend
    assert set(metrics) >= {"recall@10", "ndcg@10", "popularity@10", "novelty@10", "ild@10"}
