"""The session layer (recsys.session): one request end to end, timings from the library,
a per-session intent cache, live sessions — no Streamlit involved."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from recsys import session
from recsys.blend import BlendWeights


def test_intent_cache_forgets_a_fallback_sooner(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = session.IntentCache(size=2)
    good, fallback = SimpleNamespace(fallback_reason=None), SimpleNamespace(fallback_reason="HTTP 500")
    cache.put(("e", "llm", "a"), good, 5.0)                        # type: ignore[arg-type]
    cache.put(("e", "llm", "b"), fallback, 5.0)                    # type: ignore[arg-type]
    assert cache.get(("e", "llm", "a")).intent is good and cache.get(("e", "llm", "b")).intent is fallback
    monkeypatch.setattr(session, "FALLBACK_TTL", -1.0)             # every fallback has expired
    assert cache.get(("e", "llm", "b")) is None and cache.get(("e", "llm", "a")).intent is good
    cache.put(("e", "llm", "c"), good, 1.0)                        # type: ignore[arg-type]
    cache.put(("e", "llm", "d"), good, 1.0)                        # type: ignore[arg-type]  LRU: at most 2
    assert cache.get(("e", "llm", "a")) is None


def test_default_weights_are_the_blends_defaults() -> None:
    assert session.DEFAULT_WEIGHTS == BlendWeights().as_tuple() == (0.5, 0.3, 0.2)
    assert not session.weights_ok((0, 0, 0)) and session.weights_ok((0, 0, 0.1))


def test_example_prompts_are_requests_with_labels() -> None:
    prompts = session.example_prompts()
    assert prompts and all(p["text"].strip() and p["label"] for p in prompts)


def test_run_request_books_the_parse_time_and_the_total(tiny_recommender) -> None:
    cache = session.IntentCache()
    result = session.run_request(tiny_recommender, "funny animated movies like Toy Story", k=3, cache=cache)
    t = result.timings
    assert len(result.items) == 3
    assert t["intent"] > 0
    stages = sum(t[key] for key in ("intent", "encode", "relevance", "cf", "blend", "explain"))
    assert t["total"] == pytest.approx(stages, rel=0.05, abs=1.0)
    again = session.run_request(tiny_recommender, "funny animated movies like Toy Story", k=3, cache=cache)
    assert again.intent is result.intent                          # parsed once per session
    other = session.run_request(tiny_recommender, "funny animated movies like Toy Story", k=3,
                                cache=session.IntentCache())
    assert other.intent is not result.intent                      # another session parses its own
    assert [i.movie_id for i in other.items] == [i.movie_id for i in result.items]


def test_a_recommendation_reblends_without_the_recommender(tiny_recommender) -> None:
    result = session.run_request(tiny_recommender, "animated comedy", k=3)
    assert not hasattr(result, "recommender")
    moved = result.reblend((0.0, 0.0, 1.0))
    assert moved.weights.as_tuple() == (0.0, 0.0, 1.0) and len(moved.items) == 3
    assert all(abs(i.score - i.b) < 1e-9 for i in moved.items)


def test_rerank_without_a_model_keeps_the_blend_order(tiny_recommender) -> None:
    plain = session.run_request(tiny_recommender, "animated comedy", k=3)
    reranked = session.run_request(tiny_recommender, "animated comedy", k=3, rerank="no model configured")
    assert [i.movie_id for i in reranked.items] == [i.movie_id for i in plain.items]
    assert reranked.to_dict()["rerank"]["applied"] is False and "rerank" not in plain.to_dict()


def test_start_live_books_the_parse_time_once(tiny_recommender) -> None:
    parsed = session.parse_request(tiny_recommender, "animated comedy", cache=session.IntentCache())
    live = session.start_live(tiny_recommender, parsed, weights=(0, 0, 0), k=3)
    assert live.weights.as_tuple() == session.DEFAULT_WEIGHTS      # all-zero sliders: the defaults
    assert live.result.timings["intent"] == pytest.approx(parsed.ms)
    first = live.result.items[0].movie_id
    assert live.react(first, "like").timings["intent"] < parsed.ms + 1.0
