"""The main flow, in one room: a run request goes through plan -> runs -> sequential seeds ->
transferability scores -> leaderboards and report.

The CLI parses arguments into a :class:`RunRequest` and calls :func:`run_pipeline`; tests and
benchmark scripts call the same function, so none of them re-chains (and silently skips) a
stage. The stages themselves live in the rooms below (``runs``, ``analysis``); this package
orchestrates them and adds no logic of its own beyond the order.
"""

from benchmark.pipeline.request import RunRequest
from benchmark.pipeline.run import PipelineSummary, run_pipeline, score_transferability

__all__ = ["PipelineSummary", "RunRequest", "run_pipeline", "score_transferability"]
