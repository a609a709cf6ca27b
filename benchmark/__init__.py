"""benchmark: a task-fusion evaluation suite.

Does moving knowledge from a source task into a target task help or hurt? Data flows one
way, and the sub-packages are named after it: ``data`` (tasks and their sources) ->
``models`` (backbones, the training loop, the method API) -> ``runs`` (suites, planning,
the workspace, executors and the run store) -> ``analysis`` (statistics, leaderboards,
report) -> ``pipeline`` (a run request from plan to report: the one entry point the CLI,
tests and benchmark scripts call). Each may import only the ones before it; ``cli`` parses
arguments, and plug-ins (``baselines/``, ``tasks/``) import ``benchmark.api`` only.
"""

__version__ = "0.1.0"
