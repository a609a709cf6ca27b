"""Data: tasks (labelled data sets with splits), their sources (offline packages, the Hub,
local files), YAML bring-your-own tasks and the generated NLI stand-in.

May import the data libraries (datasets, pandas, numpy, PIL) and ``benchmark.errors`` /
``paths`` / ``registry``; never models, runs or analysis.
"""
