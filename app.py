"""FirstReel — the web app of the cold-start recommender: ``streamlit run app.py``.

The entrypoint draws what every page shares — theme and styles, the brand header, the
global sidebar with the blend weights α, β, γ (widgets created here keep their values
across pages) — starts loading the shared engine in the background, and runs the page
picked in the top navigation. Pages live in ``pages/`` (one file each, nothing else);
their helpers and the custom visuals in ``ui/``; the request itself runs in the
Streamlit-free session layer ``recsys.session``.

Moving a weight slider reruns only the weight-dependent fragments of the current page
(registered through ``ui.state.register_weight_fragment``) plus the weight-mix bar: the
request's stage scores are cached, so a move costs one re-blend and a re-render.

The sidebar's "Language model" section picks the intent parser (Auto / Built-in rules /
LLM, key ``parser_choice``), shows the configured backend (a secret-free description; API
keys are never shown) with a health dot, and the per-stage latency of this session's last
pipeline run (fragment ``latency``: a reaction on the Recommend page reruns it alone).
"""

from __future__ import annotations

import streamlit as st

from ui import blocks, latency, loader
from ui import components as h
from ui import language_model as lm
from ui import state as ui
from ui.words import words

_words = words()          # the data folder's nouns (movies, or items for your own catalogue)

st.set_page_config(
    page_title=f"FirstReel · cold-start {_words.item} recommendations",
    page_icon=str(ui.ASSETS / "logo.svg"),
    layout="wide",
    initial_sidebar_state="expanded",
)
ui.md(f"<style>{ui.asset_text('style.css')}</style>")

# ----------------------------------------------------------------------------- weights state
# A page (e.g. Tune) asks for new weights through _pending_weights: sliders can only be
# moved before they are drawn, i.e. here, at the start of the next run.
pending = st.session_state.pop("_pending_weights", None)
if pending is not None:
    for key, value in zip(ui.WEIGHT_KEYS, pending):
        st.session_state[key] = float(value)
backup = st.session_state.get("_weights_backup", ui.DEFAULT_WEIGHTS)
for key, value in zip(ui.WEIGHT_KEYS, backup):
    if key not in st.session_state:
        st.session_state[key] = float(value)
st.session_state["_weights_backup"] = ui.weights()
# Fragments that depend on the weights re-register during this full run.
st.session_state["_weight_fragments"] = []


def _weights_moved() -> None:
    """A slider moved: rerun only the weight-dependent fragments, not the whole app."""
    st.session_state["_weights_backup"] = ui.weights()
    st.rerun(["weight_mix", *st.session_state.get("_weight_fragments", [])])


def _preset(values: tuple[float, float, float]) -> None:
    for key, value in zip(ui.WEIGHT_KEYS, values):
        st.session_state[key] = value
    st.session_state["_weights_backup"] = values


@st.fragment(key="weight_mix")
def _weight_mix() -> None:
    weights = ui.weights()
    ui.md(h.mix_bar(weights))
    blocks.weights_ok(weights)


with st.sidebar:
    ui.md('<div class="fr-side-title">Blend weights</div>'
          '<div class="fr-side-formula">final = α·r̂ + β·ŝ + γ·b̂</div>')
    st.slider("α · relevance r", 0.0, 1.0, step=0.05, key="alpha", format="%.2f", on_change=_weights_moved,
              help=f"How much the relevance of each {_words.item} to your words counts (embedding similarity plus the "
                   "rules read from your request).")
    st.slider("β · collaborative filtering s", 0.0, 1.0, step=0.05, key="beta", format="%.2f",
              on_change=_weights_moved,
              help=f"How much 'people who loved the {_words.items} you named also loved…' counts (ALS fold-in).")
    st.slider("γ · popularity prior b", 0.0, 1.0, step=0.05, key="gamma", format="%.2f",
              on_change=_weights_moved,
              help=_words.pick("How much a movie's popularity and average rating count, regardless of your words.",
                               f"How much an {_words.item}'s popularity counts, regardless of your words."))
    _weight_mix()
    with st.container(horizontal=True, gap="small", key="presets"):
        st.button("Default", on_click=_preset, args=(ui.DEFAULT_WEIGHTS,),
                  help="α {:.2f} · β {:.2f} · γ {:.2f}".format(*ui.DEFAULT_WEIGHTS))
        st.button("Relevance", on_click=_preset, args=((1.0, 0.0, 0.0),), help="Relevance only: α 1 · β 0 · γ 0")
        st.button("CF", on_click=_preset, args=((0.0, 1.0, 0.0),), help="Collaborative filtering only: α 0 · β 1 · γ 0")
    ui.md('<div class="fr-side-note">Each signal is rescaled to 0–1 over the request\'s candidates, so '
          'the sliders mean what they say. They apply on every page.</div>')

# ----------------------------------------------------------------------------- language model
_CHOICE_NOTES = {
    "auto": "The LLM reads each request first when it is healthy; the built-in rules are the fallback.",
    "builtin": "Built-in rules only: the LLM is not asked.",
    "llm": "The LLM reads each request; when a call fails, the built-in rules still answer.",
}


@st.fragment(key="latency")
def _latency() -> None:
    """This session's last pipeline run, per stage (pages redraw it after a run)."""
    st.session_state["_latency_slot"] = st.empty()
    latency.show_latency()


with st.sidebar:
    ui.md('<div class="fr-side-title fr-side-section">Language model</div>')
    if st.session_state.get(lm.PARSER_KEY) not in lm.PARSER_LABELS:
        st.session_state[lm.PARSER_KEY] = "auto"
    st.segmented_control(
        "Intent parser", list(lm.PARSER_LABELS), key=lm.PARSER_KEY, format_func=lambda c: lm.PARSER_LABELS[c],
        required=True, width="stretch",
        help="Auto: the generative LLM when one is configured and healthy, else the built-in rules. "
             "Built-in rules: never ask the LLM. LLM: always ask it (a failed call still falls back).")
    llm = lm.llm_status()
    choice = lm.chosen_parser()
    if choice == "llm" and not llm.configured:
        note = '<div class="fr-side-warn">No generative LLM is configured, so the built-in rules answer. ' \
               'Set RECSYS_LLM_BASE_URL and RECSYS_LLM_MODEL (or RECSYS_LLM_LOCAL) and restart.</div>'
    else:
        note = f'<div class="fr-side-note">{h.esc(_CHOICE_NOTES[choice])}</div>'
    ui.md(h.llm_status(llm.backend, llm.state, llm.detail) + note)
    _latency()

# ----------------------------------------------------------------------------- engine + header
engine = loader.engine_loader()          # starts loading in the background; pages wait for it

with st.sidebar:
    if engine.ready:
        rec = engine.recommender
        status = (f'<span class="fr-dot fr-dot-ok"></span>Ready · {words(rec).count(len(rec.catalogue))} · '
                  f'{h.esc(rec.index.model_id)}')
    elif engine.failed:
        status = '<span class="fr-dot fr-dot-bad"></span>Not available — see the message on the page'
    else:
        status = '<span class="fr-dot fr-dot-busy"></span>Warming up the models…'
    ui.md(f'<div class="fr-side-status">{status}</div>'
          '<div class="fr-side-note">Nothing you type is stored: requests live in memory only.</div>')

if engine.ready:
    pill = h.badge(f"● Ready · {words(engine.recommender).count(len(engine.recommender.catalogue))}", "good")
elif engine.failed:
    pill = h.badge("● Not available", "bad")
else:
    pill = h.badge("● Warming up…", "warn")
ui.md(f'<div class="fr-header"><img src="data:image/svg+xml;base64,{ui.asset_b64("logo.svg")}" alt=""/>'
      '<div><div class="fr-brand">First<b>Reel</b></div>'
      '<div class="fr-tagline">' + _words.pick("One sentence in, a movie night out", "One sentence in, a list out")
      + ' — recommendations for brand-new users, with every step shown.</div></div>'
      f'<div class="fr-header-right">{pill}</div></div>')

navigation = st.navigation(
    [
        st.Page(ui.PAGES["recommend"], title="Recommend", icon=":material/auto_awesome:", default=True),
        st.Page(ui.PAGES["compare"], title="Compare", icon=":material/compare_arrows:"),
        st.Page(ui.PAGES["tune"], title="Tune", icon=":material/tune:"),
        st.Page(ui.PAGES["about"], title="Data & about", icon=":material/dataset:"),
    ],
    position="top",
)
navigation.run()
