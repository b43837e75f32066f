"""Deprecated name of :mod:`recsys.relevance` (stage 3 is embedding similarity plus intent
terms, not a generative model); kept so older imports keep working. Import from
:mod:`recsys.relevance`."""

from recsys.relevance import *  # noqa: F401,F403
from recsys.relevance import RelevanceConfig, RelevanceScores, excluded_items, score_relevance, top_indices  # noqa: F401
