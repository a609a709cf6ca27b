"""The roles a suite gives methods, so the core names no plug-in.

- ``reference``: the method every transfer gain is measured against, run per target with no
  source (its fit on a source's draw is that source's model);
- ``judge``: the fusion method by which controls are judged and whose gain transferability
  estimators must predict; ``None`` skips what needs one, with a note;
- ``pretrained``: the per-target method whose accuracy is a merge-all table's pretrained row
  (frozen pretrained trunk, trained head); with the reference, the only per-target method run
  where a suite evaluates merges alone (``Suite.pair_budget``).

A suite file sets them with the keys ``reference``, ``judge`` and ``pretrained``; these are the defaults.
``plan.json`` records them, so the analysis of a results folder knows each suite's roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_REFERENCE = "target_only"
DEFAULT_JUDGE = "finetune"
DEFAULT_PRETRAINED = "linear_probe"


@dataclass(frozen=True)
class Roles:
    """Which method plays which role in a suite."""

    reference: str = DEFAULT_REFERENCE
    judge: str | None = DEFAULT_JUDGE
    pretrained: str = DEFAULT_PRETRAINED

    def to_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "judge": self.judge, "pretrained": self.pretrained}

    @classmethod
    def from_json(cls, data: Any) -> Roles:
        """Roles recorded in a ``plan.json`` (absent in older ones: the defaults)."""
        if not isinstance(data, dict):
            return cls()
        judge = data.get("judge", DEFAULT_JUDGE)
        return cls(reference=str(data.get("reference", DEFAULT_REFERENCE)),
                   judge=None if judge is None else str(judge),
                   pretrained=str(data.get("pretrained", DEFAULT_PRETRAINED)))
