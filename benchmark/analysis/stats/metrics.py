"""Per-run metrics, transfer gain and verdicts.

Pure functions on numpy arrays. Shapes use S = number of seeds, N = number of test
examples, P = number of transfer pairs.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np
import numpy.typing as npt

from benchmark.analysis.stats._validation import (
    FloatArray,
    as_correct_matrix,
    as_finite_vector,
    as_label_vector,
    check_p_value,
    check_probability_level,
    check_same_shape,
)

POSITIVE = "positive"
NEGATIVE = "negative"
INCONCLUSIVE = "inconclusive"
EQUIVALENT = "equivalent"
VERDICT_NAMES: tuple[str, ...] = (POSITIVE, EQUIVALENT, INCONCLUSIVE, NEGATIVE)


# --------------------------------------------------------------------------- per run


def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Share of examples whose prediction equals the label.

    Shapes: y_true (N,), y_pred (N,) -> float in [0, 1].
    """
    yt = as_label_vector("y_true", y_true)
    yp = as_label_vector("y_pred", y_pred)
    check_same_shape("y_true", yt, "y_pred", yp)
    return float(np.mean(yt == yp))


def macro_f1(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, labels: npt.ArrayLike | None = None
) -> float:
    """Unweighted mean over classes of F1 = 2 TP / (2 TP + FP + FN).

    Shapes: y_true (N,), y_pred (N,), labels (L,) or None -> float in [0, 1].

    Same definition as ``sklearn.metrics.f1_score(average="macro")``: ``labels`` defaults to
    the sorted union of the labels seen in ``y_true`` and ``y_pred``; a label given in
    ``labels`` that occurs in neither array scores 0 (sklearn's ``zero_division`` default);
    examples whose true or predicted label is outside ``labels`` still count as false
    negatives / false positives of the labels they are confused with.
    """
    yt = as_label_vector("y_true", y_true)
    yp = as_label_vector("y_pred", y_pred)
    check_same_shape("y_true", yt, "y_pred", yp)
    try:
        if labels is None:
            classes = np.union1d(yt, yp)
        else:
            classes = np.asarray(labels)
            if classes.ndim != 1 or classes.size == 0:
                raise ValueError(f"labels must be a non-empty 1-D list, got shape {classes.shape}")
            if np.unique(classes).size != classes.size:
                raise ValueError("labels must not contain duplicates")
            classes = np.sort(classes)
        # Position of each example's label among the classes, or -1 when it is not a class.
        t_pos = np.searchsorted(classes, yt)
        p_pos = np.searchsorted(classes, yp)
    except TypeError as err:  # e.g. str labels mixed with int labels
        raise ValueError(
            f"labels, y_true and y_pred must share one comparable type: {err}"
        ) from None
    n_classes = classes.size
    t_in = (t_pos < n_classes) & (classes[np.minimum(t_pos, n_classes - 1)] == yt)
    p_in = (p_pos < n_classes) & (classes[np.minimum(p_pos, n_classes - 1)] == yp)
    hit = t_in & (yt == yp)
    tp = np.bincount(t_pos[hit], minlength=n_classes)
    n_true = np.bincount(t_pos[t_in], minlength=n_classes)  # TP + FN
    n_pred = np.bincount(p_pos[p_in], minlength=n_classes)  # TP + FP
    denom = n_true + n_pred  # = 2 TP + FP + FN
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(n_classes), where=denom > 0)
    return float(np.mean(f1))


def accuracies_from_correct(correct: npt.ArrayLike) -> FloatArray:
    """Per-seed accuracy from a correctness matrix.

    Shape: correct (S, N) bool/0-1 (or (N,)) -> (S,) float.
    """
    return as_correct_matrix("correct", correct).mean(axis=1, dtype=np.float64)


# --------------------------------------------------------------------------- gain


def transfer_gain(acc_method: npt.ArrayLike, acc_ref: npt.ArrayLike) -> float:
    """Transfer gain TG = mean_s acc_method[s] - mean_s acc_ref[s].

    Shapes: acc_method (S,), acc_ref (S,) -> float. Paired by seed, so the shapes must match.
    """
    m = as_finite_vector("acc_method", acc_method)
    r = as_finite_vector("acc_ref", acc_ref)
    check_same_shape("acc_method", m, "acc_ref", r)
    return float(np.mean(m) - np.mean(r))


def relative_gain(acc_method: npt.ArrayLike, acc_ref: npt.ArrayLike) -> float:
    """Relative transfer gain TG / mean_s acc_ref[s] (Vu et al. 2020).

    Shapes: acc_method (S,), acc_ref (S,) -> float. Raises when the reference mean is 0.
    """
    gain = transfer_gain(acc_method, acc_ref)
    ref_mean = float(np.mean(as_finite_vector("acc_ref", acc_ref)))
    if ref_mean == 0.0:
        raise ValueError("relative gain is undefined: the mean reference accuracy is 0")
    return gain / ref_mean


@overload
def negative_transfer_gap(gain: float) -> float: ...


@overload
def negative_transfer_gap(gain: npt.NDArray[np.floating]) -> FloatArray: ...


def negative_transfer_gap(gain: float | npt.NDArray[np.floating]) -> float | FloatArray:
    """Negative-transfer gap NTG = -TG (Wang et al. 2019). Scalar -> float, (P,) -> (P,)."""
    if isinstance(gain, np.ndarray):
        return -np.asarray(gain, dtype=np.float64)
    return -float(gain)


# --------------------------------------------------------------------------- verdicts


def verdict(gain: float, p_adjusted: float, alpha: float = 0.05) -> str:
    """Classify one transfer pair.

    ``"positive"`` when gain > 0 and p_adjusted < alpha, ``"negative"`` when gain < 0 and
    p_adjusted < alpha, else ``"inconclusive"`` (also when gain or p is NaN, i.e. missing).
    """
    a = check_probability_level("alpha", alpha)
    p = check_p_value("p_adjusted", p_adjusted)
    g = float(gain)
    if math.isnan(g) or math.isnan(p) or p >= a or g == 0.0:
        return INCONCLUSIVE
    return POSITIVE if g > 0 else NEGATIVE


def verdicts(
    gains: npt.ArrayLike, p_adj: npt.ArrayLike, alpha: float = 0.05,
    p_equivalence_adj: npt.ArrayLike | None = None,
) -> npt.NDArray[np.str_]:
    """Vectorised :func:`verdict`, with equivalence.

    Shapes: gains (P,), p_adj (P,), p_equivalence_adj (P,) or None -> (P,) str array.
    ``"positive"`` / ``"negative"`` when p_adj < alpha (by the sign of the gain); else
    ``"equivalent"`` when p_equivalence_adj (an adjusted TOST p-value) < alpha; else
    ``"inconclusive"``. An empty family gives an empty array; NaN counts as not rejected.
    """
    a = check_probability_level("alpha", alpha)
    g = np.asarray(gains, dtype=np.float64).reshape(-1)
    p = np.asarray(p_adj, dtype=np.float64).reshape(-1)
    check_same_shape("gains", g, "p_adj", p)
    q = np.full(g.shape, np.nan) if p_equivalence_adj is None else \
        np.asarray(p_equivalence_adj, dtype=np.float64).reshape(-1)
    check_same_shape("gains", g, "p_equivalence_adj", q)
    if np.any((p < 0) | (p > 1)) or np.any((q < 0) | (q > 1)):
        raise ValueError("p_adj and p_equivalence_adj must hold probabilities in [0, 1] (or NaN)")
    out = np.full(g.shape, INCONCLUSIVE, dtype="<U12")
    significant = p < a  # False for NaN
    out[~significant & (q < a)] = EQUIVALENT
    out[significant & (g > 0)] = POSITIVE
    out[significant & (g < 0)] = NEGATIVE
    return out


def _verdict_counts(verdict_array: npt.ArrayLike) -> dict[str, int]:
    v = np.asarray(verdict_array).reshape(-1).astype(str)
    unknown = sorted(set(np.unique(v).tolist()) - set(VERDICT_NAMES))
    if unknown:
        raise ValueError(
            f"unknown verdict {unknown[0]!r}; verdicts must be one of {', '.join(VERDICT_NAMES)}"
        )
    return {name: int(np.count_nonzero(v == name)) for name in VERDICT_NAMES}


def verdict_counts(verdict_array: npt.ArrayLike) -> dict[str, int]:
    """How many pairs got each verdict. Shape: (P,) verdict strings -> {verdict: count}."""
    return _verdict_counts(verdict_array)


def win_tie_loss(verdict_array: npt.ArrayLike) -> tuple[int, int, int]:
    """Count (wins, ties, losses) = (#positive, #equivalent, #negative); inconclusive pairs
    are none of them (see :func:`verdict_counts`).

    Shape: verdict_array (P,) of verdict strings -> three ints (all 0 for an empty array).
    """
    counts = _verdict_counts(verdict_array)
    return counts[POSITIVE], counts[EQUIVALENT], counts[NEGATIVE]


def negative_transfer_rate(verdict_array: npt.ArrayLike) -> float:
    """Share of pairs judged negative. Shape: (P,) verdict strings -> float (NaN if P == 0)."""
    counts = _verdict_counts(verdict_array)
    total = sum(counts.values())
    return counts[NEGATIVE] / total if total else float("nan")
