"""Analysis: predictions on disk -> statistics -> leaderboard CSVs and the report.

Holds ``stats/`` (pure statistics on numpy arrays), the leaderboard tables and their CSV
schema, and the report. May import ``benchmark.runs.store`` (to read runs), pandas and
matplotlib; never trains, never imports torch, methods or the data layer.
"""
