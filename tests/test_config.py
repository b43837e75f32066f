"""Config classes: one source of truth for every tunable.

Each config round-trips through a dict and JSON unchanged, rejects values that make no sense,
documents every field, and is what the code (and the CLI's defaults) actually use.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re

import pytest

from recsys import cli
from recsys.adapter import AdapterConfig
from recsys.evaluation.requests import EvaluationConfig
from recsys.feedback import FeedbackConfig, auto_weights
from recsys.blend import BlendWeights
from recsys.intent import IntentConfig, BuiltinIntentParser
from recsys.llm import LLMConfig
from recsys.pipeline import DEFAULT_K, MAX_K
from recsys.rerank import RerankConfig, rerank_items
from recsys.splits import SplitConfig, split_user_ids
from recsys.titles import TitleMatcher

CONFIGS = [IntentConfig, FeedbackConfig, RerankConfig, LLMConfig, SplitConfig, EvaluationConfig,
           AdapterConfig]


def _from_json(cls, text: str):
    """Rebuild ``cls`` from JSON (lists back to the tuples the fields declare)."""
    raw = json.loads(text)
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_configs_round_trip_through_a_dict_and_json(cls):
    default = cls()
    assert cls(**dataclasses.asdict(default)) == default
    assert _from_json(cls, json.dumps(dataclasses.asdict(default))) == default
    # A changed value survives the round trip too (nothing is silently reset to its default).
    first = dataclasses.fields(cls)[0]
    changed = dataclasses.replace(default, **{first.name: _nudge(getattr(default, first.name))})
    assert changed != default
    assert _from_json(cls, json.dumps(dataclasses.asdict(changed))) == changed


def _nudge(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2
    raise AssertionError(f"no nudge for {value!r}")


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_every_field_is_documented(cls):
    """A ``#:`` comment on the field's line or the lines just above it."""
    source = inspect.getsource(cls).splitlines()
    for field in dataclasses.fields(cls):
        at = next(n for n, line in enumerate(source) if re.match(rf"\s+{field.name}\s*:", line))
        above = source[max(at - 3, 0):at]
        assert "#:" in source[at] or any(line.strip().startswith("#:") for line in above), \
            f"{cls.__name__}.{field.name} has no docstring"


@pytest.mark.parametrize("cls, bad", [
    (IntentConfig, {"max_request_chars": 0}),
    (IntentConfig, {"zero_shot_temperature": 0.0}),
    (IntentConfig, {"zero_shot_min_cosine": 1.5}),
    (FeedbackConfig, {"auto_beta_max": 1.2}),
    (FeedbackConfig, {"auto_tau": 0.0}),
    (RerankConfig, {"top": 0}),
    (RerankConfig, {"budget_seconds": -1.0}),
    (LLMConfig, {"timeout": 0.0}),
    (LLMConfig, {"title_min_score": 2.0}),
    (SplitConfig, {"heldout_fraction": 1.0}),
    (EvaluationConfig, {"k": 51}),
    (EvaluationConfig, {"resamples": 10}),
    (EvaluationConfig, {"warmup_steps": (3, 1)}),
    (AdapterConfig, {"items": "everything"}),
    (AdapterConfig, {"lambda_grid": ()}),
    (AdapterConfig, {"validation_fraction": 0.0}),
])
def test_nonsense_values_are_rejected(cls, bad):
    with pytest.raises(ValueError):
        cls(**bad)


def test_cli_defaults_come_from_the_configs():
    parser = cli.build_parser()
    evaluation = EvaluationConfig()
    ev = parser.parse_args(["evaluate"])
    assert (ev.k, ev.seed, ev.holdout, ev.resamples, ev.tune_metric) == (
        evaluation.k, evaluation.seed, evaluation.holdout, evaluation.resamples, evaluation.tune_metric)
    sw = parser.parse_args(["sweep"])
    assert (sw.seed, sw.step, sw.metric) == (evaluation.seed, evaluation.sweep_step, evaluation.tune_metric)
    assert parser.parse_args(["recommend", "x"]).k == DEFAULT_K
    ta = parser.parse_args(["train-adapter"])
    assert (ta.epochs, ta.descriptions) == (AdapterConfig().epochs, AdapterConfig().descriptions_per_user)
    # The held-out share of the evaluation is the product's split (one number, not two).
    assert evaluation.holdout == SplitConfig().heldout_fraction and evaluation.seed == SplitConfig().seed


def test_cli_help_quotes_the_configured_numbers(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["recommend", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    rerank = RerankConfig()
    assert f"top {rerank.top} within a {rerank.budget_seconds:g} s budget" in text
    assert f"1-{MAX_K}, default {DEFAULT_K}" in text


@pytest.fixture(scope="module")
def matcher(tiny_catalogue) -> TitleMatcher:
    return TitleMatcher(tiny_catalogue.movie_ids.tolist(), list(tiny_catalogue.titles),
                        tiny_catalogue.n_ratings.tolist())


def test_the_intent_config_is_what_the_parser_uses(tiny_catalogue, matcher):
    default = BuiltinIntentParser(tiny_catalogue, matcher)
    newest = default.newest_year
    assert default.parse("something recent").era.start == newest - IntentConfig().recent_years + 1
    short = BuiltinIntentParser(tiny_catalogue, matcher, config=IntentConfig(recent_years=2,
                                                                            classic_before=1950,
                                                                            max_request_chars=40))
    assert short.parse("something recent").era.start == newest - 1
    assert short.parse("old classics").era.end == 1949
    long_text = "a funny comedy " * 10
    intent = short.parse(long_text)
    assert len(intent.text) <= 40 and intent.warnings


def test_the_feedback_config_is_what_auto_weights_use():
    base = BlendWeights(0.5, 0.3, 0.2)
    assert auto_weights(base, 0).beta == pytest.approx(0.3)
    # Many 👍: β approaches β_max, whatever it is configured to.
    assert auto_weights(base, 100).beta == pytest.approx(FeedbackConfig().auto_beta_max)
    assert auto_weights(base, 100, FeedbackConfig(auto_beta_max=0.6)).beta == pytest.approx(0.6)
    slow = auto_weights(base, 3, FeedbackConfig(auto_tau=30.0)).beta
    assert 0.3 < slow < auto_weights(base, 3).beta


def test_the_rerank_default_reorders_at_most_the_configured_top():
    class Reverse:
        """A backend that reverses whatever it is shown."""

        def chat(self, messages, *, max_tokens=400, timeout=None):
            numbers = re.findall(r"^(\d+)\.", messages[-1]["content"], flags=re.M)
            return json.dumps({"order": [int(n) for n in reversed(numbers)]})

    class Item:
        def __init__(self, n: int) -> None:
            self.label, self.genres = f"Movie {n} (2000)", ("Drama",)

    items = [Item(n) for n in range(RerankConfig().top + 5)]
    order, outcome = rerank_items(Reverse(), "anything", items)
    assert outcome.considered == RerankConfig().top
    assert order[RerankConfig().top:] == items[RerankConfig().top:]


def test_the_split_config_is_the_products_split():
    train, held_out = split_user_ids(range(100))
    assert len(held_out) == round(100 * SplitConfig().heldout_fraction)
    again = split_user_ids(range(100), SplitConfig().heldout_fraction, SplitConfig().seed)
    assert (again[1] == held_out).all() and len(train) + len(held_out) == 100


def test_the_llm_config_is_what_the_llm_parser_uses(tiny_catalogue, matcher):
    from recsys.llm import LLMIntentParser, OpenAICompatibleBackend
    from tests.chat_server import ChatServer, completion

    answer = {"liked_genres": ["Animation"], "disliked_genres": [], "era": None, "keywords": [],
              "titles": [], "similar_titles": ["Toy Story 2 (1999)", "Finding Nemo (2003)", "Up (2009)"]}
    server = ChatServer()
    server.reply = lambda body: (200, completion(answer))
    try:
        builtin = BuiltinIntentParser(tiny_catalogue, matcher)
        backend = OpenAICompatibleBackend(server.url, "test-model", None, 5.0)
        default = LLMIntentParser(backend, builtin).parse("animated films for kids")
        assert len(default.similar_titles) == 3 <= LLMConfig().max_similar
        one = LLMIntentParser(backend, builtin, config=LLMConfig(max_similar=1))
        assert "up to 1 real" in one.messages("animated films for kids")[0]["content"]
        intent = one.parse("animated films for kids")
        assert [t.title for t in intent.similar_titles] == ["Toy Story 2 (1999)"]
        assert any(c.reason == "more than 1 suggestions" for c in intent.dropped_claims)
    finally:
        server.close()
