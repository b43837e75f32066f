"""Every page of the web app through ``streamlit.testing.v1.AppTest``: what a user would notice.

Runs on ml-latest-small (``RECSYS_DATA_DIR``; skipped otherwise, except the error-path
tests, which bring their own broken data). The engine is loaded once per test session
(``st.cache_resource`` survives across AppTest instances).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from tests.app.conftest import card_ids, markdown_text

requires_data = pytest.mark.skipif(
    not (os.environ.get("RECSYS_DATA_DIR") and (Path(os.environ["RECSYS_DATA_DIR"]) / "movies.csv").exists()),
    reason="app test: set RECSYS_DATA_DIR to an ml-latest-small folder to run it")

PAGES = ["pages/recommend.py", "pages/compare.py", "pages/tune.py", "pages/about.py"]
REQUEST = "mind-bending sci-fi like Inception, nothing gory, 90s is fine"
CHINESE = "我喜欢九十年代的科幻片，不要恐怖片"


def _ask(at, text: str):  # type: ignore[no-untyped-def]
    at.text_area(key="request_text").input(text).run()
    assert not at.exception
    return at


def _llm_table(at):  # type: ignore[no-untyped-def]
    for frame in at.dataframe:
        value = frame.value
        if "movie_id" in getattr(value, "columns", []) and "similarity" in value.columns:
            return value
    raise AssertionError("the relevance candidate table is missing")


def _set_weights(at, alpha: float, beta: float, gamma: float):  # type: ignore[no-untyped-def]
    for key, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        at.run()                                   # full run: the sidebar is in the element tree
        at.slider(key=key).set_value(value).run()  # a slider move reruns only the fragments
        assert not at.exception
    return at.run()


# ----------------------------------------------------------------------------- every page

@requires_data
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exception(new_app, page: str) -> None:
    at = new_app()
    at.switch_page(page).run()
    assert not at.exception
    assert not at.error
    assert "fr-page-title" in markdown_text(at)


@requires_data
def test_every_page_runs_with_a_request(new_app, results_dir: Path) -> None:
    at = _ask(new_app(), REQUEST)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
        assert not at.error, page


# ----------------------------------------------------------------------------- Recommend

@requires_data
def test_typed_request_produces_a_list_and_the_four_stages(new_app) -> None:
    at = _ask(new_app(), REQUEST)
    text = markdown_text(at)
    for stage in ("Parsed intent", "Relevance-scored candidates", "CF adjustments", "Final list"):
        assert stage in text
    ids = card_ids(at)
    assert len(ids) == 10 and len(set(ids)) == 10
    assert 79132 not in ids                        # Inception was named: never recommended back
    # Stage 1 shows what was understood, with the parser that produced it.
    assert 'class="hl hl-title"' in text and "Inception (2010)" in text
    assert 'class="chip chip-like"' in text and 'class="chip chip-dislike"' in text
    assert "parsed by built-in rules" in text
    # Timing tiles per stage.
    labels = [m.label for m in at.metric]
    assert {"Intent", "Relevance", "CF fold-in", "Blend + explain", "Total"} <= set(labels)


@requires_data
def test_list_length_follows_k(new_app) -> None:
    at = _ask(new_app(), "something like Toy Story for a family movie night")
    at.select_slider(key="k").set_value(5).run()
    assert not at.exception
    assert len(card_ids(at)) == 5


@requires_data
def test_llm_only_weights_give_the_llm_only_list(new_app) -> None:
    at = _ask(new_app(), REQUEST)
    at = _set_weights(at, 1.0, 0.0, 0.0)
    llm_top = _llm_table(at)["movie_id"].tolist()[:10]
    assert card_ids(at) == llm_top
    assert "collaborative filtering is switched off" in "\n".join(i.value for i in at.info)


@requires_data
def test_cf_weight_changes_the_list(new_app) -> None:
    at = _ask(new_app(), REQUEST)
    before = card_ids(at)
    at.slider(key="beta").set_value(1.0).run()      # fragment rerun: only stages 3-4 redraw
    assert not at.exception
    after = card_ids(at)
    assert len(after) == 10 and after != before
    assert "Re-blended in" in markdown_text(at)


@requires_data
def test_chinese_prompt_works(new_app) -> None:
    at = _ask(new_app(), CHINESE)
    text = markdown_text(at)
    assert ">Sci-Fi<" in text and 'class="chip chip-dislike"' in text and "1990s" in text
    ids = card_ids(at)
    assert len(ids) == 10
    from ui import state as _ui

    rec = _ui.engine_loader().recommender
    genres = [rec.catalogue.genres[rec.catalogue.index_of[m]] for m in ids]
    assert not any("Horror" in g for g in genres)    # 不要恐怖片: no horror shown
    assert sum("Sci-Fi" in g for g in genres) >= 7


@requires_data
def test_example_prompt_click_runs_it(new_app) -> None:
    at = new_app()
    at.button_group(key="example_pick").set_value("Heist, no romance").run() if hasattr(at, "button_group") \
        else at.get("button_group")[0].set_value("Heist, no romance").run()
    assert not at.exception
    assert at.text_area(key="request_text").value.startswith("a clever heist movie")
    assert len(card_ids(at)) == 10


@requires_data
def test_empty_prompt_gives_a_friendly_message(new_app) -> None:
    at = new_app()
    assert not at.warning and "Your recommendations will appear here" in markdown_text(at)
    at.button(key="go").click().run()
    assert not at.exception and not at.error
    assert any("Tell us what you'd like to watch" in w.value for w in at.warning)
    assert card_ids(at) == []


@requires_data
def test_unusable_prompt_gives_a_friendly_message(new_app) -> None:
    at = _ask(new_app(), "?!? ... !!!")
    assert not at.error
    assert any("describe what you would like to watch" in w.value.lower() for w in at.warning)
    assert card_ids(at) == []


@requires_data
def test_all_weights_zero_is_explained(new_app) -> None:
    at = _ask(new_app(), REQUEST)
    at = _set_weights(at, 0.0, 0.0, 0.0)
    assert any("weights are 0" in w.value for w in at.warning)
    assert card_ids(at) == []


@requires_data
def test_weights_and_request_survive_page_switches(new_app) -> None:
    at = _ask(new_app(), REQUEST)
    at.slider(key="beta").set_value(0.7).run()
    at.run()
    at.switch_page("pages/about.py").run()
    assert at.slider(key="beta").value == pytest.approx(0.7)
    at.switch_page("pages/recommend.py").run()
    assert at.slider(key="beta").value == pytest.approx(0.7)
    assert at.text_area(key="request_text").value == REQUEST
    assert len(card_ids(at)) == 10


@requires_data
def test_picked_movies_are_used_and_never_shown(new_app) -> None:
    at = _ask(new_app(), "a fun adventure")
    assert not at.multiselect                      # the 9,742-title pickers load only when opened
    at.session_state["refine_open"] = True          # open "Movies you already know"
    at.run()
    at.multiselect(key="liked_movies").select(1)                # Toy Story
    at.multiselect(key="disliked_movies").select(2571).run()    # The Matrix
    assert not at.exception
    assert "(2 picked)" in at.expander[0].label
    ids = card_ids(at)
    assert len(ids) == 10 and 1 not in ids and 2571 not in ids
    assert "Picked" in markdown_text(at)


# ----------------------------------------------------------------------------- Compare

@requires_data
def test_compare_shows_five_lists_and_a_scorecard(new_app, results_dir: Path) -> None:
    at = _ask(new_app(), REQUEST)
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    text = markdown_text(at)
    assert text.count('class="fr-list"') == 5
    for name in ("Random", "Popularity", "Relevance only (r)", "CF only (s)", "Blend"):
        assert f'<div class="fr-list-title">{name}</div>' in text
    card = next(f.value for f in at.dataframe if "violations" in getattr(f.value, "columns", []))
    assert list(card["system"]) == ["Random", "Popularity", "Relevance only (r)", "CF only (s)", "Blend"]
    assert card.loc[card["system"] == "Blend", "overlap"].item() == pytest.approx(1.0)
    assert card.loc[card["system"] == "Blend", "disliked"].item() == 0        # no Horror in the blend
    # No results files yet: the page says which command makes them.
    assert any("python -m recsys evaluate --json" in i.value for i in at.info)


@requires_data
def test_compare_renders_an_evaluation_file(new_app, results_dir: Path) -> None:
    systems = {name: {"recall@10": v, "ndcg@10": v / 2, "mrr": v / 3,
                      "ci95": {"recall@10": [v * 0.8, v * 1.2], "ndcg@10": [None, None]}}
               for name, v in (("random", 0.001), ("popularity", 0.03), ("llm", 0.04), ("cf", 0.06),
                               ("blend", 0.1), ("blend-tuned", 0.11))}
    (results_dir / "evaluation-redial.json").write_text(json.dumps(
        {"protocol": "redial", "n": 751, "k": 10, "parser": "builtin",
         "weights": {"alpha": 0.5, "beta": 0.3, "gamma": 0.2}, "seconds": 30.0, "systems": systems,
         "subsets": {"language_only": {"n": 338, "systems": systems}}}))
    at = new_app()
    at.switch_page("pages/compare.py").run()
    assert not at.exception and not at.error
    table = next(f.value for f in at.dataframe if "Recall@10" in getattr(f.value, "columns", []))
    assert list(table.index) == ["Random", "Popularity", "Relevance only (r)", "CF only (s)", "Blend", "Blend, tuned weights"]
    assert table.loc["Blend", "Recall@10"].startswith("0.1000")
    assert "NeurIPS 2018" in "\n".join(c.value for c in at.caption)


@requires_data
def test_compare_reports_a_broken_evaluation_file(new_app, results_dir: Path) -> None:
    (results_dir / "evaluation-redial.json").write_text("{not json")
    at = new_app()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert any("could not be read" in w.value for w in at.warning)


@requires_data
def test_compare_names_the_warmup_command_until_its_file_exists(new_app, results_dir: Path) -> None:
    at = new_app()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    command = "python -m recsys evaluate --protocol warmup --json --out assets/results/evaluation-warmup.json"
    assert any(command in i.value for i in at.info)


@requires_data
def test_compare_plots_the_warmup_curves(new_app, results_dir: Path) -> None:
    from tests.app.conftest import chart_spec

    curves = {"blend": [0.05, 0.08, 0.11, 0.13, 0.16], "random": [0.001] * 5, "llm": [0.04] * 5,
              "cf": [0.0, 0.06, 0.1, 0.12, 0.15]}
    (results_dir / "evaluation-warmup.json").write_text(json.dumps({
        "protocol": "warmup", "n": 120, "k": 10,
        "systems": {s: {"curve": dict(zip(["0", "1", "3", "5", "10"], v)),
                        "ci95": {"0": [v[0] * 0.8, v[0] * 1.2], "10": [v[-1] * 0.8, v[-1] * 1.2]}}
                    for s, v in curves.items()}}))
    at = new_app()
    at.switch_page("pages/compare.py").run()
    assert not at.exception and not at.warning                   # not mistaken for a benchmark file
    spec = chart_spec(at, "warmup_curves")
    lines = {t["name"]: t for t in spec["data"] if t.get("mode") == "lines+markers"}
    assert set(lines) == {"Blend", "Random", "Relevance", "CF"}
    assert lines["Blend"]["x"] == [0, 1, 3, 5, 10] and lines["Blend"]["y"][-1] == pytest.approx(0.16)
    table = next(f.value for f in at.dataframe if "gain" in getattr(f.value, "columns", []))
    assert table.loc[table["system"] == "Blend", "gain"].item() == pytest.approx(0.11)
    assert "0.050" in markdown_text(at) and "0.160" in markdown_text(at)
    # The ReDial benchmark still says what makes its file (the warm-up file is not one).
    assert any("python -m recsys evaluate --json" in i.value for i in at.info)


# ----------------------------------------------------------------------------- Tune

def _write_sweep(folder: Path) -> None:
    from recsys.evaluation.tuning import weight_grid

    rows = ["alpha,beta,gamma,recall@10,ndcg@10,recall@50,hr@10,mrr"]
    for a, b, g in weight_grid(0.1):
        score = 0.1 - (a - 0.4) ** 2 - (b - 0.4) ** 2          # best at α 0.4, β 0.4, γ 0.2
        rows.append(f"{a},{b},{g},{score:.5f},{score / 2:.5f},{score * 2:.5f},{score:.5f},{score:.5f}")
    (folder / "sweep-redial.csv").write_text("\n".join(rows) + "\n")


@requires_data
def test_tune_without_a_sweep_says_which_command_makes_it(new_app, results_dir: Path) -> None:
    at = new_app()
    at.switch_page("pages/tune.py").run()
    assert not at.exception and not at.error
    assert any("python -m recsys sweep" in c.value for c in at.code)


@requires_data
def test_tune_best_point_sets_the_sliders(new_app, results_dir: Path) -> None:
    _write_sweep(results_dir)
    at = new_app()
    at.switch_page("pages/tune.py").run()
    assert not at.exception and not at.error
    assert "α 0.4 · β 0.4 · γ 0.2" in markdown_text(at)
    at.button(key="use_best").click().run()
    assert not at.exception
    assert [at.slider(key=k).value for k in ("alpha", "beta", "gamma")] == pytest.approx([0.4, 0.4, 0.2])


@requires_data
def test_tune_reports_a_broken_sweep(new_app, results_dir: Path) -> None:
    (results_dir / "sweep-redial.csv").write_text("x,y\n1,2\n")
    at = new_app()
    at.switch_page("pages/tune.py").run()
    assert not at.exception
    assert any("could not be read" in e.value for e in at.error)


# ----------------------------------------------------------------------------- Data & about

@requires_data
def test_about_shows_statistics_models_and_attributions(new_app) -> None:
    at = new_app()
    at.switch_page("pages/about.py").run()
    assert not at.exception
    assert {"Movies", "Ratings", "Users"} <= {m.label for m in at.metric}
    assert next(m for m in at.metric if m.label == "Movies").value == "9,742"
    text = markdown_text(at)
    for needle in ("Harper", "Konstan", "MovieLens", "ReDial", "CC BY 4.0", "all-MiniLM-L6-v2", "Apache"):
        assert needle in text
    at.text_input(key="explore_query").input("toy story").run()
    assert not at.exception
    frame = next(f.value for f in at.dataframe if "tags" in getattr(f.value, "columns", []))
    assert len(frame) >= 3 and all("toy story" in t.lower() for t in frame["movie"])


# ----------------------------------------------------------------------------- errors, not tracebacks

def _broken_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, files: dict[str, str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name, content in files.items():
        (data / name).write_text(content)
    monkeypatch.setenv("RECSYS_DATA_DIR", str(data))
    monkeypatch.setenv("RECSYS_CACHE_DIR", str(tmp_path / "cache"))


def test_missing_data_gives_a_clear_error(new_app, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _broken_env(monkeypatch, tmp_path, {})
    at = new_app()
    at.text_area(key="request_text").input("90s sci-fi").run()
    assert not at.exception
    assert at.error and "could not be loaded" in at.error[0].value
    assert "RECSYS_DATA_DIR" in at.error[0].value or "MovieLens" in at.error[0].value
    assert at.button(key="retry_load")
    at.switch_page("pages/about.py").run()          # attributions still shown
    assert not at.exception and "Harper" in markdown_text(at)


def test_broken_file_gives_a_clear_error(new_app, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _broken_env(monkeypatch, tmp_path, {
        "movies.csv": "movieId,title,genres\n1,Toy Story (1995),Animation\nnot-a-number,Broken,Drama\n",
        "ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,1\n",
    })
    at = new_app()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert at.error and "movies.csv" in at.error[0].value


# ----------------------------------------------------------------------------- helpers under the pages

def test_highlight_marks_spans_and_escapes_text() -> None:
    from ui.components import Span, highlight

    out = highlight("no <b>horror</b>, 90s", [Span(0, 16, "negation", "not wanted", True),
                                               Span(6, 12, "genre", "Horror", True), Span(18, 21, "era", "1990s")])
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert 'class="hl hl-genre hl-neg"' in out and 'class="hl hl-era"' in out


def test_highlight_joins_a_negated_term_with_its_tail() -> None:
    from ui.components import Span, highlight

    out = highlight("不要恐怖片", [Span(2, 4, "genre", "Horror", True), Span(2, 5, "negation", "not wanted", True)])
    assert out.count("<span") == 1 and ">恐怖片</span>" in out


def test_card_html_has_title_score_bar_and_reasons() -> None:
    from ui.components import CardData, initials, movie_card

    card = CardData(rank=1, title="The Matrix & <Co>", year=1999, genres=("Action", "Sci-Fi"), score=0.91,
                    contributions=(0.5, 0.3, 0.11), reasons=(("title", "close to Inception"), ("cf", "fans liked it")),
                    llm_rank=3, cf_rank=None, movie_id=2571)
    out = movie_card(card, weight_sum=1.0)
    assert 'data-movie-id="2571"' in out and "&lt;Co&gt;" in out and "0.91" in out
    assert out.count("<li>") == 2 and "relevance #3" in out and "not a CF pick" in out
    assert initials("The Matrix") == "M" and initials("Toy Story 2") == "TS"


def test_mix_bar_shares_sum_to_one() -> None:
    from ui.components import mix_bar

    out = mix_bar((1.0, 1.0, 2.0))
    assert "Relevance 25%" in out and "CF 25%" in out and "Prior 50%" in out
    assert "all weights are 0" in mix_bar((0.0, 0.0, 0.0))


def test_engine_loader_reports_failure_without_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import state as _ui
    from recsys.data import DataError

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DataError("ratings.csv line 3: rating 'x' is not a number.")

    monkeypatch.setattr("recsys.pipeline.Recommender.load", boom)
    loader = _ui.EngineLoader(("test",))
    loader.start()
    assert loader.wait(30) and loader.failed and not loader.ready
    assert "ratings.csv line 3" in (loader.error or "") and loader.error_kind == "data"
    assert np.isfinite(loader.seconds)


def test_history_lists_newest_first_and_escapes_titles() -> None:
    from ui.components import history_list
    from recsys.feedback import Step

    assert "No reactions yet" in history_list([])
    steps = [Step(1, "like", 6, "Heat (1995)", ("A <b>", "B", "C", "D"), ("E",), 12.0),
             Step(2, "seen", 1214, "Alien (1979)", (), (), 3.0)]
    out = history_list(steps)
    assert out.index("Alien (1979)") < out.index("Heat (1995)")
    assert "A &lt;b&gt;" in out and "A <b>" not in out
    assert "+1 more" in out and "the same movies, re-ordered" in out
    assert out.count("<li") == 2
    assert "… and 1 earlier reaction" in history_list(steps, limit=1)


def test_latency_panel_and_reaction_counts() -> None:
    from ui.components import latency_panel, reaction_counts

    out = latency_panel([("LLM call", 1200.0), ("Encode request", 0.0), ("Total", 1300.0)], title="Last run")
    assert "1.2 s" in out and "cached" in out and "fr-lat-total" in out and "1.3 s" in out
    assert "No request yet" in latency_panel([], title="Last run")
    counts = reaction_counts(2, 0, 1)
    assert "<b>2</b> liked" in counts and "fr-count-zero" in counts and "<b>1</b> seen" in counts


@requires_data
def test_tune_quick_sweep_runs_the_evaluation_on_a_sample(new_app, results_dir: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    redial = tmp_path / "redial"
    redial.mkdir()
    rows = [("a western like Unforgiven", [3671]), ("funny romantic comedy", [1307, 2144]),
            ("90s sci-fi, no horror", [1240, 1196]), ("something like Toy Story", [3114]),
            ("   ", [1])]
    (redial / "redial_dev.jsonl").write_text("\n".join(json.dumps(
        {"id": f"r{n}", "request": text, "target_movie_ids": targets, "mentioned_movie_ids": []})
        for n, (text, targets) in enumerate(rows)) + "\n", encoding="utf-8")
    monkeypatch.setenv("RECSYS_REDIAL_DIR", str(redial))
    at = new_app()
    at.switch_page("pages/tune.py").run()
    at.button[[b.label for b in at.button].index("Run quick sweep")].click().run()
    assert not at.exception and not at.error
    assert "quick sweep" in markdown_text(at) + " ".join(c.value for c in at.caption)


# ----------------------------------------------------------------------------- hardening (issue 15)

@requires_data
def test_a_long_paste_is_cut_with_a_warning_not_dropped(new_app) -> None:
    at = _ask(new_app(), "a funny space adventure with robots and aliens, " * 70)  # ~3,400 characters
    assert any("cut to its first 2,000 characters" in w.value for w in at.warning)
    assert len(card_ids(at)) == 10


@requires_data
def test_a_zero_width_joiner_inside_a_negated_genre_still_strikes_it(new_app) -> None:
    at = _ask(new_app(), "a heist movie, no ro\u200dmance")
    text = markdown_text(at)
    assert re.search(r'class="hl hl-genre hl-neg"[^>]*>romance<', text), "romance is not struck through"
    avoids = text.split('<span class="chip-label">Avoids</span>')[1].split("</div>")[0]
    assert "Romance" in avoids


@requires_data
def test_tune_says_no_weights_are_set_when_all_sliders_are_zero(new_app, results_dir: Path) -> None:
    _write_sweep(results_dir)
    at = _set_weights(new_app(), 0.0, 0.0, 0.0)
    at.switch_page("pages/tune.py").run()
    assert not at.exception
    sliders = next(m for m in at.metric if m.label == "Your sliders")
    assert sliders.value == "no weights set"


@requires_data
def test_a_text_another_session_typed_is_not_answered_from_its_caches(new_app, monkeypatch) -> None:
    import uuid

    from sentence_transformers import SentenceTransformer

    encoded: list[str] = []
    original = SentenceTransformer.encode

    def counting(self, sentences, *args, **kwargs):  # type: ignore[no-untyped-def]
        encoded.extend([sentences] if isinstance(sentences, str) else list(sentences))
        return original(self, sentences, *args, **kwargs)

    monkeypatch.setattr(SentenceTransformer, "encode", counting)
    secret = f"a quiet drama about a lighthouse keeper {uuid.uuid4().hex[:8]}"
    first = _ask(new_app(), secret)
    assert card_ids(first) and any("lighthouse" in t for t in encoded)
    encoded.clear()
    second = _ask(new_app(), secret)            # another browser session, same text
    assert card_ids(second) == card_ids(first)
    assert any("lighthouse" in t for t in encoded), "the second session was served from the first one's caches"


@requires_data
def test_the_app_starts_from_a_damaged_cache(new_app, monkeypatch, tmp_path: Path) -> None:
    import shutil

    source = Path(os.environ.get("RECSYS_CACHE_DIR") or Path.home() / ".cache" / "recsys")
    if not any(source.glob("items-*.npz")):
        pytest.skip("needs the warm item index cache (python -m recsys index)")
    cache = tmp_path / "cache"
    cache.mkdir()
    for path in (*source.glob("items-*.npz"), *source.glob("als-*.npz")):
        shutil.copy(path, cache / path.name)
    for path in cache.glob("als-*.npz"):
        with path.open("r+b") as handle:
            handle.truncate(600_000)
    monkeypatch.setenv("RECSYS_CACHE_DIR", str(cache))   # a new engine for these settings
    at = _ask(new_app(), "90s sci-fi")
    assert not at.error and len(card_ids(at)) == 10
