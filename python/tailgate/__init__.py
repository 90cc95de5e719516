"""tailgate: how heavy-tailed do the iterates of SGD-type algorithms become?

The tail-index estimators, the theory, training and studies of the ``tailgate`` command
line, as numpy arrays, dicts and pandas DataFrames. Every number is computed by the same
Rust code as the CLI's, so the same inputs and seeds give the same numbers bit for bit.

    >>> import numpy as np, tailgate
    >>> x = np.random.default_rng(0).standard_cauchy(100_000)
    >>> tailgate.estimate(x, "powerlaw", subsamples=0)["alpha"]  # doctest: +SKIP
    >>> run = tailgate.train(chains=200, dim=5, steps=500, eta=0.3)
    >>> run.summary["alpha"], run.final.shape  # doctest: +SKIP

Errors raise ``ValueError`` (bad input) or ``OSError`` (files) with the CLI's one-line
message; Ctrl-C during :func:`train` raises ``KeyboardInterrupt`` and leaves nothing
half-written.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

if TYPE_CHECKING:
    import pandas

from . import _tailgate

__version__: str = _tailgate.__version__

#: Every estimator's name, in the order ``estimate(x, "all")`` reports them (the one list
#: the CLI's ``--estimator``, run.json and this package all take their names from).
ESTIMATORS: tuple[str, ...] = tuple(name for name, _ in _tailgate.ESTIMATORS)

__all__ = [
    "ESTIMATORS",
    "Run",
    "estimate",
    "far_tail",
    "load_run",
    "load_study",
    "theory",
    "train",
    "__version__",
]

PathLike = Union[str, "os.PathLike[str]"]

#: The arrays a run folder may hold, by attribute name.
_ARRAYS = (
    "final",
    "average",
    "diverged",
    "coords",
    "average_coords",
    "iterates",
    "far_tail",
)


def estimate(
    x: Any,
    estimator: str = "mohammadi",
    *,
    block_sizes: Optional[Sequence[int]] = None,
    k: Optional[int] = None,
    center: str = "none",
    pooled: bool = False,
    subsamples: int = 200,
    seed: int = 0,
    grid: str = "network",
    ci: float = 0.95,
    min_samples: int = 300,
    k_resamples: int = 50,
    gof_resamples: int = 100,
    min_tail: int = 50,
    xmin_candidates: int = 400,
) -> Union[Dict[str, Any], List[Dict[str, Any]]]:
    """Tail index α of a sample: ``tailgate estimate --format json`` on ``x``.

    Args:
        x: float32/float64 array-like (numpy array, list, torch tensor through
            ``__array__``): 1-D scalars or 2-D ``[N, d]`` rows (estimated from row norms).
        estimator: a name of :data:`ESTIMATORS` (the same list as the CLI's
            ``--estimator``; ``tailgate estimate --help`` says what each is) or ``"all"``.
            For ``"powerlaw"`` (the Clauset–Shalizi–Newman fit) ``alpha`` is the tail
            index, the ``powerlaw`` package's ``alpha`` − 1, with ``xmin``, ``n_tail``,
            ``ks`` and ``p_value``.
        block_sizes: Mohammadi block sizes (each ≥ 2 and ≤ N); overrides ``grid``.
        k: upper order statistics for Hill, moments and Pickands (default: chosen by a
            double bootstrap; Pickands: the flattest stretch of its plot).
        center: ``"none"``, ``"mean"`` or ``"median"`` — subtracted from the rows first.
        pooled: treat every coordinate of a 2-D array as its own scalar sample.
        subsamples: random halves (without replacement) for the symmetric subsampling
            interval (0: no interval).
        seed: seed of every resampling (streams hashed from seed, purpose and index).
        grid: Mohammadi block-size grid without ``block_sizes``: ``"network"``,
            ``"synthetic"`` or ``"sqrt"``.
        ci: level of the interval, in (0, 1).
        min_samples: fewer samples than this raise ``ValueError`` (no estimate).
        k_resamples: resamples per stage of the double bootstraps choosing Hill's and
            the moments estimator's k.
        gof_resamples: synthetic samples of the power-law goodness-of-fit p-value (0: none).
        min_tail: power law: the smallest tail a candidate ``xmin`` may leave.
        xmin_candidates: power law: at most this many candidate thresholds (0: every
            distinct value, exact and O(N²)).

    Returns:
        The CLI's JSON object as a dict (``alpha``, ``ci``, ``n``, ``dim``, …); a list of
        five dicts for ``estimator="all"``.

    Raises:
        ValueError: ``x`` is not a 1-D or 2-D real array, or an option is out of range.
    """
    counts = {
        "subsamples": subsamples,
        "seed": seed,
        "min_samples": min_samples,
        "k_resamples": k_resamples,
        "gof_resamples": gof_resamples,
        "min_tail": min_tail,
        "xmin_candidates": xmin_candidates,
    }
    for name, value in counts.items():
        if int(value) < 0:
            raise ValueError(f"{name}: must be a count >= 0, got {value}")
    values = _as_rows(x)
    n, dim = values.shape
    reports: List[Dict[str, Any]] = json.loads(
        _tailgate.estimate(
            values.tobytes(),
            n,
            dim,
            estimator,
            None if block_sizes is None else [int(m) for m in block_sizes],
            grid,
            None if k is None else int(k),
            center,
            bool(pooled),
            float(ci),
            int(subsamples),
            int(seed),
            int(min_samples),
            int(k_resamples),
            int(gof_resamples),
            int(min_tail),
            int(xmin_candidates),
        )
    )
    return reports if estimator == "all" else reports[0]


def far_tail(
    x: Any,
    *,
    burn_in: int = 0,
    layout: str = "steps,chains",
    keep: float = 0.002,
    resamples: int = 200,
    seed: int = 0,
    ci: float = 0.95,
) -> Dict[str, Any]:
    """The far tail of a time series of a scalar statistic, as ``tailgate estimate
    --far-tail`` reads it: ``x`` is 2-D, ``[steps, chains]`` (``layout="chains,steps"`` to
    flip); after ``burn_in`` steps every sample above the top ``keep`` fraction is kept and
    read on a ladder of exceedance fractions 10⁻³ … 10⁻⁷ of chains × steps: Hill with a
    chain-bootstrap interval (``resamples``), the extremal index and clusters, the GPD fit,
    and the headline ``alpha`` from the deepest rung with enough clusters and chains (or
    ``None`` with ``reason``). The same dict as ``summary["far_tail"]`` of a run, less the
    recording's keys. The upper tail of the values is read as given: pass magnitudes.

    Raises ``ValueError`` for a 1-D array, NaN/inf, ``burn_in`` ≥ steps, fewer than 2
    chains or ``keep`` outside (0, 1).
    """
    array = np.asarray(x)
    if array.dtype.kind not in "fiu":
        raise ValueError(
            f"x: dtype {array.dtype} is not a real number type; expected float32 or float64"
        )
    if array.ndim != 2:
        raise ValueError(
            f"x: array has {array.ndim} dimensions (shape {list(array.shape)}); "
            "expected a 2-D series [steps, chains]"
        )
    for name, value in {"burn_in": burn_in, "resamples": resamples, "seed": seed}.items():
        if int(value) < 0:
            raise ValueError(f"{name}: must be a count >= 0, got {value}")
    values = np.ascontiguousarray(array, dtype=np.float64)
    rows, cols = values.shape
    result: Dict[str, Any] = json.loads(
        _tailgate.far_tail(
            values.tobytes(),
            rows,
            cols,
            layout,
            int(burn_in),
            float(keep),
            int(resamples),
            int(seed),
            float(ci),
        )
    )
    return result


def _as_rows(x: Any) -> np.ndarray:
    """``x`` as a C-contiguous float64 ``[N, d]`` array (1-D: ``d = 1``)."""
    array = np.asarray(x)
    if array.dtype.kind not in "fiu":
        raise ValueError(
            f"x: dtype {array.dtype} is not a real number type; expected float32 or float64"
        )
    if array.ndim not in (1, 2):
        raise ValueError(
            f"x: array has {array.ndim} dimensions (shape {list(array.shape)}); "
            "expected 1-D scalars or 2-D [N, d] rows"
        )
    rows = array.reshape(len(array), -1) if array.ndim == 1 else array
    return np.ascontiguousarray(rows, dtype=np.float64)


def theory(model: str, dim: int, batch: int, eta: float) -> Dict[str, Any]:
    """The tail index theory predicts: ``tailgate theory --format json``.

    Args:
        model: ``"linear"`` (y = w*·x + σξ, exact) or ``"relu_gate"`` (the gate's
            asymptotic prediction, SGD and KM alike), both for x ~ N(0, I).
        dim: input dimension d.
        batch: batch size b.
        eta: step size η.

    Returns:
        ``alpha`` (None where the chain diverges or the tail is light), ``diverges``,
        ``light_tail``, ``lyapunov``, ``second_moment``, ``eta_alpha_2`` and the inputs.

    Raises:
        ValueError: an unknown model or a value out of range.
    """
    result: Dict[str, Any] = json.loads(_tailgate.theory(model, int(dim), int(batch), float(eta)))
    return result


class Run:
    """A training run: its arrays, its resolved config and its summary (``run.json``).

    Attributes:
        path: the run folder, or None when the run was trained without ``out=``.
        record: the whole ``run.json`` as a dict.
        config: the resolved config (every key a config file may set).
        summary: α̂ and its interval, the theory's α, diverged chains, timings, ….
        final: ``[chains, parameters]`` float32, the last iterate of every chain (None for
            a reduced run too large to write rows, see ``summary["reduced"]``).
        average: ``[chains, parameters]``, the running mean after the burn-in (or None).
        diverged: ``[chains]`` bool, the chains excluded from every estimate.
        coords: ``[chains, 2]`` (a, c) of a reduced-engine run (None otherwise).
        average_coords: ``[chains, 3]`` of a reduced-engine run (None otherwise).
        iterates: ``[snapshots, chains, parameters]`` when ``record_every > 0`` (memory-mapped
            read-only when the run has a folder).
        far_tail: ``[kept, 3]`` float64 — value, chain, step — every exceedance the run kept
            of its far tail (None when it recorded none); ``summary["far_tail"]`` reads it.
    """

    path: Optional[pathlib.Path]
    record: Dict[str, Any]
    final: Optional[np.ndarray]
    average: Optional[np.ndarray]
    diverged: np.ndarray
    coords: Optional[np.ndarray]
    average_coords: Optional[np.ndarray]
    iterates: Optional[np.ndarray]
    far_tail: Optional[np.ndarray]

    def __init__(self, path: PathLike, *, keep_path: bool = True) -> None:
        folder = pathlib.Path(path)
        self.record = json.loads(_tailgate.read_run(os.fspath(folder)))
        for name in _ARRAYS:
            file = folder / f"{name}.npy"
            if not file.exists():
                value = None
            elif name == "iterates" and keep_path:
                value = np.load(file, mmap_mode="r")
            else:
                value = np.load(file)
            setattr(self, name, value)
        self.path = folder if keep_path else None

    @property
    def config(self) -> Dict[str, Any]:
        """The resolved config (``run.json``'s ``config``)."""
        config: Dict[str, Any] = self.record["config"]
        return config

    @property
    def summary(self) -> Dict[str, Any]:
        """``run.json``'s ``summary``."""
        summary: Dict[str, Any] = self.record["summary"]
        return summary

    @property
    def alpha(self) -> Optional[float]:
        """α̂ of the final iterates (None where the run has none: diverged, degenerate)."""
        alpha: Optional[float] = self.summary.get("alpha")
        return alpha

    def __repr__(self) -> str:
        c = self.config
        where = f", path={str(self.path)!r}" if self.path else ""
        return (
            f"Run(model={c.get('model')!r}, algorithm={c.get('algorithm')!r}, "
            f"chains={c.get('chains')}, dim={c.get('dim')}, alpha={self.alpha!r}, "
            f"status={self.summary.get('status')!r}{where})"
        )


def train(
    config: Union[None, PathLike, Mapping[str, Any]] = None,
    *,
    out: Optional[PathLike] = None,
    **keys: Any,
) -> Run:
    """Trains a run: ``tailgate train --config CONFIG --out OUT`` with ``keys`` on top.

    Args:
        config: a config file's path, a dict of config keys, or None (the defaults).
        out: a new folder to write the run to (as the CLI does; it must not exist). Without
            it the run is trained in a temporary folder, loaded, and the folder removed.
        **keys: config keys (``chains``, ``dim``, ``batch``, ``eta``, ``steps``, ``seed``,
            ``model``, ``algorithm``, ``labels``, ``engine``, …), over those of ``config``.

    Returns:
        The :class:`Run`; with ``out`` its files are the CLI's, byte for byte.

    Raises:
        ValueError: an unknown key or a value out of range (the CLI's message).
        OSError: the config file cannot be read, or ``out`` exists or cannot be written.
        KeyboardInterrupt: Ctrl-C; the run stops within a step and writes nothing.

    The GIL is released while the chains train.
    """
    path: Optional[str] = None
    merged: Dict[str, Any] = {}
    if isinstance(config, Mapping):
        merged.update(config)
    elif config is not None:
        path = os.fspath(config)
    merged.update(keys)
    try:
        text = json.dumps(merged, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"config: a value is not plain JSON data ({e})") from None
    if out is not None:
        _tailgate.train(path, text, os.fspath(out))
        return Run(out)
    with tempfile.TemporaryDirectory(prefix="tailgate-") as scratch:
        folder = os.path.join(scratch, "run")
        _tailgate.train(path, text, folder)
        return Run(folder, keep_path=False)


def load_run(path: PathLike) -> Run:
    """The run in folder ``path`` (written by ``tailgate train``, a sweep or :func:`train`).

    Raises:
        OSError: no ``run.json`` there.
        ValueError: ``run.json`` is not a run record.
    """
    return Run(path)


#: ``summary.csv``'s columns and their dtypes (nullable where a cell may have no value).
_STUDY_DTYPES = {
    "cell": "string",
    "algorithm": "category",
    "labels": "category",
    "label_noise": "float64",
    "model": "category",
    "d": "int64",
    "b": "int64",
    "eta": "float64",
    "kappa": "float64",
    "alpha_target": "float64",
    "seed": "int64",
    "chains": "int64",
    "steps": "int64",
    "status": "category",
    "alpha": "float64",
    "alpha_lo": "float64",
    "alpha_hi": "float64",
    "alpha_average": "float64",
    "alpha_mohammadi": "float64",
    "alpha_mohammadi_lo": "float64",
    "alpha_mohammadi_hi": "float64",
    "powerlaw_xmin": "float64",
    "powerlaw_n_tail": "Int64",
    "powerlaw_ks": "float64",
    "powerlaw_p_value": "float64",
    "hill_alpha": "float64",
    "hill_k": "Int64",
    "diverged_chains": "int64",
    "finite_chains": "int64",
    "from_survivors": "bool",
    "surviving_fraction": "float64",
    "converged_to_floor": "bool",
    "theory_alpha": "float64",
    "theory_diverges": "boolean",
    "theory_light_tail": "boolean",
    "wall_seconds": "float64",
    "engine": "category",
    "burn_in": "Int64",
    "init": "category",
    "theory_tilted_drift": "float64",
    "equilibrium_fraction": "float64",
    "far_alpha": "float64",
    "far_lo": "float64",
    "far_hi": "float64",
    "far_fraction": "float64",
    "far_chains": "Int64",
    "far_reason": "string",
    "far_samples": "Int64",
    "noise_law": "category",
    "far_in_equilibrium": "boolean",
}


#: Columns that a summary.csv written by tailgate 0.2 lacks (its ``alpha`` is the Mohammadi
#: estimator; from 0.3 on it is the power-law fit and Mohammadi is ``alpha_mohammadi``).
_ADDED_IN_0_3 = {
    "alpha_mohammadi",
    "alpha_mohammadi_lo",
    "alpha_mohammadi_hi",
    "powerlaw_xmin",
    "powerlaw_n_tail",
    "powerlaw_ks",
    "powerlaw_p_value",
    "from_survivors",
    "surviving_fraction",
    # The predicted α a cell's η was placed at (studies with `alpha_target`, later than 0.3).
    "alpha_target",
    # The far tail's columns (studies with `far_tail`, later still).
    "burn_in",
    "init",
    "theory_tilted_drift",
    "equilibrium_fraction",
    "far_alpha",
    "far_lo",
    "far_hi",
    "far_fraction",
    "far_chains",
    "far_reason",
    "far_samples",
    "noise_law",
    "far_in_equilibrium",
}


def load_study(path: PathLike) -> "pandas.DataFrame":
    """A study's table: the ``summary.csv`` that ``tailgate report`` writes, one row per
    cell, with proper dtypes (integers, floats with NaN where a cell has no value,
    nullable booleans and integers, categories for the settings).

    Args:
        path: ``summary.csv`` or the report folder holding it.

    Raises:
        OSError: no such file (a study folder not yet reported: run ``tailgate report``).
        ValueError: the file lacks one of the columns.
    """
    import pandas as pd

    file = pathlib.Path(path)
    if file.is_dir() and not (file / "summary.csv").exists():
        # `tailgate report DIR` writes DIR/report/summary.csv by default.
        if (file / "report" / "summary.csv").exists():
            file = file / "report"
    if file.is_dir():
        if not (file / "summary.csv").exists() and (file / "study.json").exists():
            raise FileNotFoundError(
                f"{file}: a study folder without summary.csv; "
                f"run `tailgate report {file} --out REPORT` and load REPORT"
            )
        file = file / "summary.csv"
    if not file.exists():
        raise FileNotFoundError(f"{file}: no such file")
    header = pd.read_csv(file, nrows=0).columns
    missing = [c for c in _STUDY_DTYPES if c not in header and c not in _ADDED_IN_0_3]
    if missing:
        raise ValueError(f"{file}: not a tailgate summary.csv (no column {missing[0]!r})")
    dtypes = {c: t for c, t in _STUDY_DTYPES.items() if c in header}
    try:
        return pd.read_csv(file, dtype=dtypes, keep_default_na=False, na_values=[""])
    except (TypeError, ValueError) as e:
        raise ValueError(f"{file}: {e}") from None
