"""Offline evaluation of the recommender: four protocols, six systems, accuracy and
beyond-accuracy metrics with bootstrap intervals.

Modules (each states its contract and formulas):

``requests``     :class:`EvalRequest` (one case), :func:`load_requests`, shared constants
``metrics``      every metric, defined once: recall, hit rate, NDCG, MRR, coverage, novelty,
                 popularity, intra-list diversity, violations (also used by the Compare page)
``stats``        bootstrap resamples, mean and 95 % interval, paired differences, lifts
``stages``       :class:`StageTable` (weight-independent stage scores, cheap re-blending)
``collect``      :func:`collect_stages`: run the pipeline once per request
``encoding``     batch query encoding (cached) behind a prefetching encoder
``tuning``       the α/β/γ grid, sweeps, weight tuning, two-fold cross-fitting
``heldout``      user split, train-only recommender and adapter, user histories
``descriptions`` natural-language descriptions of a user's history (never naming a target)
``cases``        simulated / sampled20 / warm-up cases (:class:`EvalRequest`) from histories
``protocols``    ``run_redial``, ``run_held_out``, ``run_warmup``, ``evaluate_table``, engine facts
``report``       sweep CSV writing

Protocols
---------
``redial``
    Real typed requests (ReDial mapped to MovieLens). The system sees only the request
    text; the whole catalogue is ranked with the movies the request names left out; the
    targets are the movies the seeker was later recommended and liked. The language-only
    subset (``request_has_movie_mention`` false) is reported as well.
``simulated``
    Held-out MovieLens users as new users (Sanner et al., RecSys 2023). A seeded 20 % of
    the users is held out (:func:`recsys.splits.split_users`); item texts, CF, the
    popularity prior, the title matcher's popularity and the adapter are rebuilt from the
    other users only. Each held-out user's liked items (rating ≥ 4) are ordered by time; the
    earlier half becomes a description (``language``, ``titles``, ``both``), the later half
    are the targets.
``warmup``
    The ``simulated`` users' language-only descriptions followed by ``n`` 👍 reactions in a
    live session, ``n`` = 0, 1, 2, 3, 5, 10, for fixed weights and ``blend-auto``.
``sampled20``
    Hou et al. (ECIR 2024): rank the true next liked item plus 19 random unrated items, the
    text naming 2-3 earlier titles and every earlier liked item given as a liked reaction.

Every number is a mean with a bootstrap 95 % interval; the same resamples serve every
system, resampling by user when one user contributes several cases. Systems: ``random``,
``popularity`` (the prior ``b``), ``llm`` (α=1), ``cf`` (β=1), ``blend`` and ``blend-tuned``
(weights tuned on a separate split, never on the reported cases).

Import from the submodules (``from recsys.evaluation.metrics import recall_at``); this
package file imports nothing so that importing a metric stays cheap.
"""
