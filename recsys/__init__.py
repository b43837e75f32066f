"""LLM-assisted cold-start recommender.

A brand-new user's free text becomes a ranked, explained movie list in five stages:
intent (:mod:`recsys.intent`), content features (:mod:`recsys.embed`), LLM scores ``r``
(:mod:`recsys.relevance`), CF adjustment ``s`` (:mod:`recsys.cf`) and the blend
``final = α·r̂ + β·ŝ + γ·b̂`` (:mod:`recsys.blend`, prior ``b`` in
:mod:`recsys.baseline`). :class:`recsys.pipeline.Recommender` runs them all.
This package never imports streamlit.
"""

__version__ = "0.1.0"
