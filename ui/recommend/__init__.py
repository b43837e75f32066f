"""The Recommend page, one module per part of the screen (``pages/recommend.py`` puts them in order).

* :mod:`.request_box` — the request, examples, movie pickers, list length; the empty state.
* :mod:`.overview` — the four stages at a glance and their timings.
* :mod:`.final_list` — stage 4: the list (drawn first), the optional LLM rerank, the download.
* :mod:`.live_panel` — "Your taste, live" beside the list.
* :mod:`.intent_view`, :mod:`.relevance_view`, :mod:`.cf_view` — stages 1–3: how the list was made.
* :mod:`.reactions` — what 👍 / 👎 / seen, reset and the toggles do.
"""
