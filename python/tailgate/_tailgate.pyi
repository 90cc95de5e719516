"""Type stubs of the native module; the public API is in ``tailgate/__init__.py``."""

from typing import Optional, Sequence

__version__: str
# (name, one line) of every estimator, in the order estimator="all" reports them.
ESTIMATORS: list[tuple[str, str]]

def estimate(
    values: bytes,
    n: int,
    dim: int,
    estimator: str,
    block_sizes: Optional[Sequence[int]],
    grid: str,
    k: Optional[int],
    center: str,
    pooled: bool,
    ci: float,
    subsamples: int,
    seed: int,
    min_samples: int,
    k_resamples: int,
    gof_resamples: int,
    min_tail: int,
    xmin_candidates: int,
) -> str:
    """JSON array of reports on ``n × dim`` native-endian float64 ``values``."""

def far_tail(
    values: bytes,
    rows: int,
    cols: int,
    layout: str,
    burn_in: int,
    keep: float,
    resamples: int,
    seed: int,
    ci: float,
) -> str:
    """JSON object: the far-tail ladder of a ``rows × cols`` native-endian float64 series."""

def theory(model: str, dim: int, batch: int, eta: float) -> str:
    """``tailgate theory --format json`` as JSON text."""

def train(config: Optional[str], keys: str, out: str) -> str:
    """Trains ``config`` (a file, or None) with the JSON object ``keys`` on top into ``out``;
    returns the run's one-line summary."""

def read_run(dir: str) -> str:
    """``dir/run.json``, checked against the run record's schema, as JSON text."""
