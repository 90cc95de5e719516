"""tailgate.load_study on a study the CLI sweeps and reports, and on the published one."""

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest

import tailgate
from conftest import ROOT

STUDY = {
    "name": "tiny",
    "base": {"chains": 300, "steps": 400, "dim": 5, "seed": 1, "engine": "reduced"},
    "grid": [
        {
            "model": ["relu_gate"],
            "algorithm": ["sgd", "km"],
            "label_noise": [1.0],
            "batch": [1, 2],
            "kappa": [1.0, 2.0, 40.0],
        },
        {"model": ["linear"], "label_noise": [1.0], "batch": [1, 2], "kappa": [1.0, 2.0, 40.0]},
    ],
}


@pytest.fixture(scope="module")
def reported(cli, tmp_path_factory):
    """A small study swept and reported by the CLI: (study folder, report folder)."""
    tmp = tmp_path_factory.mktemp("study")
    (tmp / "study.json").write_text(json.dumps(STUDY))
    cli("sweep", "--config", tmp / "study.json", "--out", tmp / "runs", "--quiet")
    cli("report", tmp / "runs", "--out", tmp / "report")
    return tmp / "runs", tmp / "report"


def test_the_table_is_summary_csv_with_proper_dtypes(reported):
    _, report = reported
    table = tailgate.load_study(report)
    with open(report / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(table) == len(rows) > 0
    assert list(table.columns) == list(rows[0].keys())
    for column in ("d", "b", "seed", "chains", "steps", "diverged_chains", "finite_chains"):
        assert table[column].dtype == np.int64, column
    for column in ("eta", "kappa", "alpha", "alpha_lo", "alpha_hi", "theory_alpha", "wall_seconds"):
        assert table[column].dtype == np.float64, column
    assert table["converged_to_floor"].dtype == np.bool_
    assert str(table["theory_diverges"].dtype) == "boolean"
    assert str(table["hill_k"].dtype) == "Int64"
    assert isinstance(table["model"].dtype, pd.CategoricalDtype)
    assert set(table["model"]) == {"relu_gate", "linear"}
    assert set(table["engine"]) == {"reduced"}
    for row, (_, got) in zip(rows, table.iterrows()):
        assert got["cell"] == row["cell"]
        for column in ("alpha", "theory_alpha", "kappa", "eta"):
            if row[column] == "":
                assert math.isnan(got[column]), (column, row)
            else:
                assert got[column] == float(row[column]), (column, row)
        assert bool(got["converged_to_floor"]) == (row["converged_to_floor"] == "true")
    # κ = 40 diverges: no α, NaN in the table, not a number.
    diverging = table[table["kappa"] == 40.0]
    assert len(diverging) > 0 and diverging["alpha"].isna().all()


def test_a_cell_loads_as_a_run(reported):
    runs, report = reported
    table = tailgate.load_study(report / "summary.csv")
    cell = table.iloc[0]["cell"]
    run = tailgate.load_run(runs / "cells" / cell)
    assert run.config["dim"] == 5 and run.coords.shape == (300, 2)


def test_the_published_study_loads():
    table = tailgate.load_study(ROOT / "docs" / "study" / "summary.csv")
    assert len(table) > 200
    assert set(table["engine"]) == {"reduced"}
    assert table["alpha"].notna().sum() > 100
    # The far-tail study: every cell records its far tail, most have a headline; η is
    # placed by the gate's prediction (`gate_alpha_target`), so no cell has alpha_target.
    assert table["far_alpha"].dtype == np.float64
    assert table["far_alpha"].notna().sum() > 200
    assert table["alpha_target"].isna().all()
    assert set(table["init"]) == {"normal", "pareto"}
    assert set(table["noise_law"]) == {"normal", "cauchy"}
    assert str(table["far_in_equilibrium"].dtype) == "boolean"


def test_load_study_errors(reported, tmp_path):
    runs, _ = reported
    with pytest.raises(OSError, match="tailgate report"):
        tailgate.load_study(runs)
    with pytest.raises(OSError, match="no such file"):
        tailgate.load_study(tmp_path / "nothing.csv")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no column 'cell'"):
        tailgate.load_study(tmp_path / "other.csv")


def test_a_study_folder_loads_from_the_report_tailgate_report_writes_by_default(reported, tmp_path):
    # `tailgate report DIR` writes DIR/report/summary.csv: loading DIR finds it.
    _, report = reported
    folder = tmp_path / "study"
    (folder / "report").mkdir(parents=True)
    (folder / "study.json").write_text("{}")
    (folder / "report" / "summary.csv").write_bytes((report / "summary.csv").read_bytes())
    pd.testing.assert_frame_equal(tailgate.load_study(folder), tailgate.load_study(report))


def test_new_columns_are_typed(reported):
    _, report = reported
    table = tailgate.load_study(report)
    for column in ("alpha_mohammadi", "powerlaw_xmin", "powerlaw_ks", "surviving_fraction"):
        assert table[column].dtype == np.float64, column
    assert str(table["powerlaw_n_tail"].dtype) == "Int64"
    assert table["from_survivors"].dtype == np.bool_
    # Mohammadi is ≤ 2 by construction (up to its small-sample noise); the headline is not.
    ok = table[table["alpha"].notna()]
    assert (ok["alpha_mohammadi"] <= 2.3).all()
