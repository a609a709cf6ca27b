"""Runs: suites, planning (suite + filters -> run ids), the workspace of shared cached inputs,
executing one run, executors that schedule runs, and the store that writes them.

May import ``benchmark.data`` and ``benchmark.models``; never analysis (the CLI chains a run
to the leaderboards and report).
"""
