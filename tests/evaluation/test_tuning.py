"""The weight grid (``recsys.evaluation.tuning``)."""

from __future__ import annotations

import pytest

from recsys.evaluation.tuning import weight_grid


def test_weight_grid_has_66_points_on_the_simplex():
    grid = weight_grid(0.1)
    assert len(grid) == 66 and len(set(grid)) == 66
    for point in grid:
        assert sum(point) == pytest.approx(1.0) and all(0 <= w <= 1 for w in point)
        assert all(round(w * 10) == pytest.approx(w * 10) for w in point)
    assert (0.5, 0.3, 0.2) in grid and (1.0, 0.0, 0.0) in grid
    assert len(weight_grid(0.5)) == 6
    with pytest.raises(ValueError):
        weight_grid(0.3)


def test_the_quick_sweep_never_scores_the_adapter_on_requests_it_trained_on(tiny_recommender, tmp_path,
                                                                            monkeypatch):
    """The Tune page's quick sweep leaves out requests whose dialogue the adapter learned from
    (a full ReDial download holds the development dialogues) and says how many."""
    import copy
    import json

    import numpy as np

    from recsys.adapter import AdapterConfig, train_adapter
    from recsys.evaluation.requests import LeakageError
    from recsys.evaluation.tuning import quick_sweep

    rows = [("space movies with aliens", [5, 6]), ("funny romantic comedy", [17, 18]),
            ("90s sci-fi, no horror", [8, 10]), ("something like Toy Story", [12, 13])]
    dev = tmp_path / "redial_dev.jsonl"
    dev.write_text("\n".join(json.dumps({"id": f"redial-valid-{n}", "request": t, "target_movie_ids": ids})
                             for n, (t, ids) in enumerate(rows)) + "\n", encoding="utf-8")
    train = tmp_path / "redial_train.jsonl"          # dialogues 0 and 1 are also training requests
    train.write_text("\n".join(json.dumps({"id": f"redial-train-{n}", "request": t, "target_movie_ids": ids})
                               for n, (t, ids) in enumerate(rows[:2])) + "\n", encoding="utf-8")
    monkeypatch.setenv("RECSYS_TRAIN_REQUESTS", str(train))
    rec = copy.copy(tiny_recommender)
    users = np.unique(rec.catalogue.ratings["user_id"].to_numpy())
    rec.adapter = train_adapter(rec, users, AdapterConfig(dim=4, epochs=2, descriptions_per_user=2,
                                                          min_liked=3, weight=0.5, weight_named=0.5))
    swept, dropped = quick_sweep(rec, dev, size=10)
    assert dropped == 2 and {row["n"] for row in swept} == {2}
    train.write_text("\n".join(json.dumps({"id": f"redial-train-{n}", "request": t, "target_movie_ids": ids})
                               for n, (t, ids) in enumerate(rows)) + "\n", encoding="utf-8")
    with pytest.raises(LeakageError):
        quick_sweep(rec, dev, size=10)
