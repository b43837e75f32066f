"""Simulated descriptions (``recsys.evaluation.descriptions``, ``cases``): varied, never naming a target."""

from __future__ import annotations

import re

from recsys.evaluation.cases import simulated_requests
from recsys.evaluation.descriptions import TitleGuard, names_title
from recsys.evaluation.heldout import split_users, train_only_data, user_histories
from tests.conftest import requires_data, shared_data_dir


def test_title_guard_matches_whole_titles_with_or_without_the_article():
    guard = TitleGuard(["The Matrix", "Up"])
    assert guard.found_in("I loved the  MATRIX.") and guard.found_in("something like matrix")
    assert guard.found_in("Up (2009) was great")
    assert not guard.found_in("matrixes and upbeat music")
    assert names_title("Like Toy Story 2?", "Toy Story") and not names_title("Toy", "Toy Story")


@requires_data
def test_simulated_descriptions_vary_and_never_name_a_target():
    from recsys.catalogue import build_catalogue
    from recsys.data import load_dataset

    raw = load_dataset(shared_data_dir())
    split = split_users(raw.ratings["user_id"], 0.2, 0)
    catalogue = build_catalogue(train_only_data(raw, split.train))
    histories = user_histories(raw.ratings, split.held_out)
    cases = simulated_requests(catalogue, histories)
    assert len(cases) >= 3 * len(histories) - 3 and len(histories) >= 110
    by_user = {h.user_id: h for h in histories}
    for case in cases:
        h = by_user[int(case.group.split("-")[1])]
        low = " ".join(case.text.lower().split())
        for i in catalogue.indices(list(h.targets)):
            title = catalogue.display_titles[i].lower()
            assert not re.search(r"(?<![\w])" + re.escape(title) + r"(?![\w])", low), (case.text, title)
    texts = [c.text for c in cases]
    assert len(set(texts)) == len(texts)                                   # no two alike
    openers = {" ".join(c.text.split()[:3]) for c in cases if c.variant == "language"}
    assert len(openers) >= 10
    titled = [c for c in cases if c.variant == "titles"]
    assert all(2 <= sum(catalogue.display_titles[i] in c.text
                        for i in catalogue.indices(list(by_user[int(c.group.split("-")[1])].earlier)))
               for c in titled[:40])
    assert simulated_requests(catalogue, histories[:5]) == cases[:len(simulated_requests(
        catalogue, histories[:5]))]                                       # seeded: reproducible
