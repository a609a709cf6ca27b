"""Input checks shared by the statistics modules.

Every check raises ``ValueError`` with one line that names the argument and the problem,
so the CLI can print it as is. Nothing here computes a statistic.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def check_choice(kind: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` normalised (stripped, lower case) if it is one of ``choices``.

    Raises ``ValueError`` naming the unknown value, the valid choices and the closest
    match (difflib) when there is one.
    """
    text = str(value).strip().lower() if isinstance(value, str) else repr(value)
    if text in choices:
        return text
    close = difflib.get_close_matches(text, list(choices), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    known = ", ".join(repr(c) for c in choices)
    raise ValueError(f"unknown {kind} {value!r} (known: {known}){hint}")


def check_rng(rng: object) -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``; raise ``TypeError`` otherwise."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_probability_level(name: str, value: float) -> float:
    """Return ``value`` as a float if it lies strictly inside (0, 1)."""
    try:
        level = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}") from None
    if not 0.0 < level < 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return level


def check_count(name: str, value: int, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``minimum`` (bools are rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def as_finite_vector(name: str, values: npt.ArrayLike) -> FloatArray:
    """Return ``values`` as a non-empty 1-D float64 array of finite numbers.

    Shape: (n,) in, (n,) out. A 0-d scalar is promoted to shape (1,).
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 1-D array of numbers") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; need at least one value")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def as_label_vector(name: str, values: npt.ArrayLike) -> npt.NDArray[np.generic]:
    """Return class labels as a non-empty 1-D array (any dtype). Shape: (n,)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per example), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; need at least one example")
    return arr


def check_same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Raise if two paired arrays differ in shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape (paired data), "
            f"got {a.shape} and {b.shape}"
        )


def as_correct_matrix(name: str, values: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Return per-example correctness as an int8 0/1 matrix of shape (n_seeds, n_examples).

    Accepts bool or 0/1 numbers shaped (n_seeds, n_examples), or (n_examples,) for one
    seed. Column i must be the same test example in every row.
    """
    arr = np.asarray(values)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be shaped (n_seeds, n_examples) or (n_examples,), got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); need >= 1 seed and >= 1 example")
    if arr.dtype == np.bool_:
        return arr.astype(np.int8)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must hold booleans or 0/1 numbers, got dtype {arr.dtype}")
    bad = ~((arr == 0) | (arr == 1))
    if np.any(bad):
        raise ValueError(
            f"{name} must hold only 0/1 or booleans; found {arr[bad].flat[0]!r} "
            f"({int(np.count_nonzero(bad))} bad entries)"
        )
    return arr.astype(np.int8)


def paired_differences(
    correct_method: npt.ArrayLike, correct_ref: npt.ArrayLike
) -> npt.NDArray[np.int8]:
    """Per-example correctness differences d(s, i) = method(s, i) - ref(s, i) in {-1, 0, 1}.

    Shapes: (S, N) and (S, N) (or (N,) and (N,)) in, (S, N) int8 out.
    """
    m = as_correct_matrix("correct_method", correct_method)
    r = as_correct_matrix("correct_ref", correct_ref)
    check_same_shape("correct_method", m, "correct_ref", r)
    return (m - r).astype(np.int8)


def check_p_value(name: str, p: float) -> float:
    """Return ``p`` as float if it is NaN or in [0, 1]."""
    value = float(p)
    if not math.isnan(value) and not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1] (or NaN), got {p!r}")
    return value
