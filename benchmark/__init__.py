"""benchmark: a task-fusion evaluation suite.

Does moving knowledge from a source task into a target task help or hurt? The harness runs
every registered fusion method on every transfer pair with several seeds, stores
per-example predictions, and the statistics layer turns them into leaderboards.
"""

__version__ = "0.1.0"
