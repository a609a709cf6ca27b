"""Adding a leaderboard column or a transferability estimator is one edit: a plug-in module,
written to tmp_path and found through an entry point of ``benchmark.extensions`` (a generated
``.dist-info`` next to it, as ``pip install`` would write), registers both, and they appear in the
CSVs, the generated docs table and the report, with nothing in the package edited.

Run data is generated (``tests/run_store_helpers.py``'s toy suite, not real results). The
transferability items are scored by the stage's own function (``score_all``, what
``transfer_scores.score_item`` returns) on small generated features and labels instead of
trained source models, which would take minutes.
"""

from __future__ import annotations

import json
import math
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from run_store_helpers import TOY_SEEDS, TOY_SUITE, TOY_TARGETS, build_toy_results

from benchmark.analysis.columns import (
    Column,
    docs_markdown,
    load_extensions,
    register_column,
    unregister_column,
)
from benchmark.analysis.estimators import (
    EstimatorInputs,
    estimators,
    register_estimator,
    score_all,
    unregister_estimator,
)
from benchmark.analysis.leaderboard import build_leaderboards
from benchmark.analysis.report import build_report
from benchmark.analysis.schema import NEGATIVE, PER_TASK, TRANSFER
from benchmark.errors import ConfigError, UnknownNameError
from benchmark.files import atomic_write_json
from benchmark.pipeline.transferability import Item

PLUGIN = '''
    """A plug-in: one declaration per extension."""

    import numpy as np

    from benchmark.api import Column, register_column, register_estimator

    register_column("transfer_matrix.csv", Column(
        "gain_points", float, "The gain in accuracy points (gain x 100).", label="gain pts",
        compute=lambda row: 100.0 * row["gain"]))


    @register_estimator("mean_norm", description="mean Euclidean norm of the source features (a toy)")
    def mean_norm(features: np.ndarray) -> float:
        return float(np.linalg.norm(features, axis=1).mean())
'''
BUDGET = 100  # the toy runs' budget


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    (tmp_path / "toy_plugin.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    dist = tmp_path / "toy_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-plugin\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[benchmark.extensions]\ntoy = toy_plugin\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        load_extensions(again=True)
        assert "toy_plugin" in sys.modules and "gain_points" in TRANSFER and "mean_norm" in estimators()
        yield
    finally:
        unregister_column("transfer_matrix.csv", "gain_points")
        unregister_estimator("mean_norm")
        sys.modules.pop("toy_plugin", None)
    assert "gain_points" not in TRANSFER and "gain_points" not in NEGATIVE
    assert "mean_norm" not in estimators()


def _features(source: str, target: str, seed: int) -> EstimatorInputs:
    """Generated stand-ins for a source model's view of a target draw (20 examples, 4 features)."""
    rng = np.random.default_rng([TOY_TARGETS.index(source), TOY_TARGETS.index(target), seed])
    logits = rng.normal(size=(20, 3))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return EstimatorInputs(rng.normal(size=(20, 4)) * (1 + TOY_TARGETS.index(source)), np.arange(20) % 3,
                           probabilities, float(rng.uniform(0.5, 0.9)))


def _score_toy(results: Path) -> dict[tuple[str, str], list[float]]:
    """Write a scored item per (source, target, seed) of the toy finetune runs, as the stage does;
    returns the plug-in estimator's hand-computed values per (source, target)."""
    expected: dict[tuple[str, str], list[float]] = {}
    for source in TOY_TARGETS:
        for target in TOY_TARGETS:
            if source == target:
                continue
            for seed in TOY_SEEDS:
                inputs = _features(source, target, seed)
                item = Item(TOY_SUITE, source, target, BUDGET, seed)
                atomic_write_json(item.path(results), {
                    "suite": TOY_SUITE, "source": source, "target": target, "budget": BUDGET, "seed": seed,
                    "key": "generated", "error": None, "scores": score_all(inputs)})
                norm = float(np.mean(np.sqrt((inputs.features ** 2).sum(axis=1))))
                expected.setdefault((source, target), []).append(norm)
    return expected


def test_a_plugin_column_and_estimator_reach_the_csvs_the_docs_and_the_report(plugin: None, tmp_path: Path) -> None:
    results = build_toy_results(tmp_path / "results")
    expected_norms = _score_toy(results)
    build_leaderboards(results, n_resamples=200)
    boards = results / "leaderboards"

    # The column: last in the CSV header, with its computed values, in the transfer matrix and in the
    # negative-transfer rows (which are transfer-matrix rows).
    for name in ("transfer_matrix.csv", "negative_transfer.csv"):
        assert (boards / name).read_text(encoding="utf-8").splitlines()[0].endswith(",ntg,gain_points"), name
        table = pd.read_csv(boards / name)
        assert len(table) and table["gain"].notna().any()
        np.testing.assert_allclose(table["gain_points"], 100 * table["gain"], rtol=1e-5)  # %.6g in the CSV
    # ... in the generated docs table of both files ...
    docs = docs_markdown()
    row = "| `gain_points` | float | The gain in accuracy points (gain x 100). |"
    for name in ("transfer_matrix.csv", "negative_transfer.csv"):
        section = docs.split(f"### `{name}`")[1].split("### `")[0]
        assert row in section, name
    # ... and in the report's pair tables, right-aligned, formatted as a float (2 decimals).
    build_report(results)
    html = (results / "report" / "index.html").read_text(encoding="utf-8")
    markdown = (results / "report" / "index.md").read_text(encoding="utf-8")
    assert '<th scope="col">gain pts</th>' in html
    tm = pd.read_csv(boards / "transfer_matrix.csv")
    tested = tm[tm["gain"].notna()].iloc[0]
    assert f'<td class="num">{tested["gain_points"]:.2f}</td>' in html
    assert "| gain pts |" in markdown

    # The estimator: scored into every item, one row per pair in transferability.csv with the seed
    # mean of its values, ranked with its description, and shown in the report.
    item = json.loads(Item(TOY_SUITE, "t1", "t2", BUDGET, 0).path(results).read_text())
    assert item["scores"]["mean_norm"] == pytest.approx(expected_norms[("t1", "t2")][0])
    scores = pd.read_csv(boards / "transferability.csv")
    mine = scores[scores["estimator"] == "mean_norm"]
    assert len(mine) == len(expected_norms)
    for r in mine.itertuples(index=False):
        assert r.score == pytest.approx(np.mean(expected_norms[(r.source, r.target)]), rel=1e-5)
        assert r.n_seeds == len(TOY_SEEDS) and r.n_sources == 2
    ranking = pd.read_csv(boards / "transferability_ranking.csv")
    ranked = ranking[ranking["estimator"] == "mean_norm"]
    assert list(ranked["description"]) == ["mean Euclidean norm of the source features (a toy)"]
    assert ranked["n_groups"].iloc[0] == len(TOY_TARGETS)
    assert '<th scope="col">mean_norm</th>' in html  # the scores-per-source table
    assert "<td>mean Euclidean norm of the source features (a toy)</td>" in html  # the ranking table
    assert "`mean_norm`: mean Euclidean norm of the source features (a toy)" in docs_markdown()


def test_builtin_estimators_are_the_stats_functions_and_nan_where_they_do_not_apply() -> None:
    from benchmark.analysis.stats import transferability as stats_tr

    inputs = _features("t1", "t2", 0)
    scores = score_all(inputs)
    assert list(scores)[:6] == ["logme", "leep", "nce", "h_score", "knn", "source_accuracy"]
    assert scores["logme"] == stats_tr.logme(inputs.features, inputs.labels)
    assert scores["nce"] == stats_tr.nce(inputs.source_probabilities.argmax(1), inputs.labels)  # type: ignore[union-attr]
    assert scores["knn"] == stats_tr.knn_probe_accuracy(inputs.features, inputs.labels, k=5)
    assert scores["source_accuracy"] == inputs.source_accuracy
    headless = score_all(EstimatorInputs(inputs.features, inputs.labels, None, 0.7))
    assert math.isnan(headless["leep"]) and math.isnan(headless["nce"]) and headless["logme"] == scores["logme"]


def test_bad_registrations_say_what_to_fix() -> None:
    def gain(row: object) -> float:
        return 0.0

    with pytest.raises(ConfigError, match="already has a column 'gain'"):
        register_column("transfer_matrix.csv", Column("gain", float, "x", compute=gain))
    with pytest.raises(ConfigError, match="needs compute="):
        register_column("transfer_matrix.csv", Column("other", float, "x"))
    with pytest.raises(UnknownNameError, match="Did you mean 'transfer_matrix.csv'"):
        register_column("transfer_matrix", Column("other", float, "x", compute=gain))
    with pytest.raises(ConfigError, match="type must be one of"):
        Column("other", list, "x")
    with pytest.raises(ConfigError, match="Did you mean 'features'"):
        register_estimator("bad", description="x")(lambda feature: 0.0)
    with pytest.raises(ConfigError, match="already registered"):
        register_estimator("logme", description="x")
    assert "other" not in TRANSFER and "bad" not in estimators()
    register_column("per_task.csv", Column("word", float, "x", compute=lambda row: "many"))
    try:
        with pytest.raises(ConfigError, match="column 'word' is declared float but holds other values"):
            PER_TASK.frame([{"suite": "s"}])
    finally:
        unregister_column("per_task.csv", "word")
