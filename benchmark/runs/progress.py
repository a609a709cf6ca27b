"""Progress of a suite a person can plan by: runs done of planned, and an ETA from what the
runs of this suite measured so far (by kind of run: a text run at 1,000 examples costs far
more than an image run at 100), not from a count-based average."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

from tqdm.auto import tqdm


def format_seconds(seconds: float) -> str:
    """``75`` -> ``1m15s``; ``4000`` -> ``1h06m``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


class RunProgress:
    """A bar over a suite's runs: ``done/planned`` (runs found done count as done) and an ETA.

    ``kinds``: the kind of each run still to do (e.g. (family, method, budget)); the ETA is the
    sum over the runs left of their kind's mean measured seconds (the mean of all kinds for a
    kind not measured yet), from each run's own measured wall time (so the shared fits, which
    have their own bar, are not counted as a run's cost). With several workers (Ray) it is the
    compute left, an upper bound on the wall time.
    """

    def __init__(self, kinds: Sequence[Hashable], n_done: int, n_planned: int, desc: str):
        self._left: dict[Hashable, int] = defaultdict(int)
        for kind in kinds:
            self._left[kind] += 1
        self._seconds: dict[Hashable, list[float]] = defaultdict(list)
        self.bar = tqdm(total=n_planned, initial=n_done, desc=desc, unit="run", disable=not kinds,
                        bar_format="{desc}: {n_fmt}/{total_fmt} runs |{bar}| {elapsed} elapsed{postfix}")
        self.bar.set_postfix_str("ETA: after the first run")

    def done(self, kind: Hashable, seconds: float, label: str) -> None:
        """A run of ``kind`` finished after ``seconds`` of its own (NaN: not measured)."""
        if seconds == seconds:
            self._seconds[kind].append(seconds)
        self._left[kind] -= 1
        self.bar.set_postfix_str(f"ETA {format_seconds(self.eta())} (measured per kind of run), last: {label}")
        self.bar.update()

    def eta(self) -> float:
        """Seconds the runs left should take at the costs measured so far."""
        measured = [s for values in self._seconds.values() for s in values]
        overall = sum(measured) / len(measured) if measured else 0.0
        total = 0.0
        for kind, n in self._left.items():
            values = self._seconds.get(kind)
            total += n * (sum(values) / len(values) if values else overall)
        return total

    def close(self) -> None:
        self.bar.close()
