"""Models: backbones (frozen cached stem + trainable trunk), the shared training loop and the
fusion-method API that ``baselines/`` implements.

May import torch, transformers and ``benchmark.data`` (task columns); never runs or analysis:
a method cannot reach the run store, the statistics or the test split.
"""
