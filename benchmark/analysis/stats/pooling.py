"""Which pairs of a family a pair borrows seed variance from (the prior of the crossed t test).

Choices (:data:`POOLINGS`):

- ``"target"`` (default): each target's pairs (its sources, which share the target's
  reference runs and noise level) get a prior fitted to that target's pairs only. Targets
  never lend seed variance to each other, so a noisy target's variance is not pulled down by
  quiet ones (and a quiet target's is not pulled up): simulated type-I error and coverage
  hold per target, with seed SDs 18x apart (issue 23; README, Calibration).
- ``"family"``: one prior fitted to every pair of the family, heterogeneity measured between
  targets (the design before issue 23). Valid on average over the family's pairs, but not
  for each target when targets differ systematically in seed variance: the noisiest
  target's pairs reject too often, the quietest too rarely.

Both use :func:`~benchmark.analysis.stats.moderation.fit_seed_prior`; the pair then borrows
the prior only when it is worth at least its own seed df (:mod:`.crossed`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from benchmark.analysis.stats._validation import FloatArray, check_choice
from benchmark.analysis.stats.moderation import ROBUST_Z, fit_seed_prior

#: The pooling choices (module docstring).
POOLINGS = ("target", "family")

#: Allowance for the correlation of the seed variances of two pairs that share reference runs:
#: K pairs of d df each on one target pool to K d / (1 + (K - 1) R) effective df. R is the
#: squared correlation of their per-seed gains (1/4 when method and reference seed variances
#: are equal). Simulated (6 targets x 3 sources, fixed 18x seed-SD spread, 3 and 5 seeds, the
#: three regimes; with Satterthwaite's t, before issue 23's critical values), R = 0 (the plain sum) rejected 1.05-1.2x
#: alpha on every target and up to 2x at alpha / 18; R = 1/4 up to 1.1x / 1.6x; R = 1/2 at
#: most 1.04x / 1.5x (within MC error), intervals covering 95.0-96.0%.
SHARED_REFERENCE_R = 0.5

#: The pooling the verdicts use.
DEFAULT_POOLING = "target"


def pair_priors(
    variances: npt.ArrayLike,
    df: npt.ArrayLike,
    offset: npt.ArrayLike,
    groups: npt.ArrayLike | None,
    *,
    z: float = ROBUST_Z,
    pooling: str = DEFAULT_POOLING,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each pair's prior (scale s0^2, df d0) and the pooled seed df of the pairs it was fitted to.

    Shapes: variances, df, offset (..., P) (broadcast; as for :func:`fit_seed_prior`), groups
    (P,) target labels (None: every pair its own target) -> three (..., P) arrays. A pair
    whose prior was fitted to itself alone gets df 0 (no borrowing). ``"target"``: the pooled
    df of a target's K pairs is sum(d) / (1 + (K - 1) :data:`SHARED_REFERENCE_R`) (their
    seed variances are correlated through the shared reference runs); ``"family"``: sum(d).
    """
    pooling = check_choice("pooling", pooling, POOLINGS)
    v = np.asarray(variances, dtype=np.float64)
    d = np.asarray(df, dtype=np.float64)
    c = np.asarray(offset, dtype=np.float64)
    v, d, c = (np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(v, d, c))
    n_pairs = v.shape[-1]
    labels = np.arange(n_pairs) if groups is None else np.asarray(groups).reshape(-1)
    if labels.shape[0] != n_pairs:
        raise ValueError(f"groups must hold one label per pair ({n_pairs}), got {labels.shape[0]}")
    usable_df = np.where(np.isfinite(v) & (d > 0), d, 0.0)
    if pooling == "family":
        prior = fit_seed_prior(v, d, c, groups=labels, z=z)
        shape = v.shape
        pooled = np.broadcast_to(usable_df.sum(axis=-1, keepdims=True), shape)
        return (np.broadcast_to(prior.scale[..., None], shape).copy(),
                np.broadcast_to(prior.df[..., None], shape).copy(), pooled.copy())
    scale = np.full(v.shape, np.nan)
    prior_df = np.zeros(v.shape)
    pooled = np.zeros(v.shape)
    for label in np.unique(labels):
        mask = labels == label
        prior = fit_seed_prior(np.where(mask, v, np.nan), d, c, z=z)
        scale = np.where(mask, prior.scale[..., None], scale)
        prior_df = np.where(mask, prior.df[..., None], prior_df)
        k = np.where(mask, usable_df > 0, False).sum(axis=-1, keepdims=True)
        total = np.where(mask, usable_df, 0.0).sum(axis=-1, keepdims=True)
        pooled = np.where(mask, total / (1.0 + np.maximum(k - 1, 0) * SHARED_REFERENCE_R), pooled)
    return scale, prior_df, pooled
