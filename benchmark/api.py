"""The plug-in API: everything a method file (``baselines/``) or a task file (``tasks/``) imports.

This is the one stable, documented place for plug-ins; the modules behind it may move.

For a **method**::

    from benchmark.api import Classifier, FitContext, Method, fit, new_head, register_method

For a **task**::

    from benchmark.api import OfflineSource, Task, package_file, register_task

For an **output** (a leaderboard column or a transferability estimator, from any module
listed under the entry-point group ``benchmark.extensions``)::

    from benchmark.api import Column, register_column, register_estimator

Names are resolved on first use, so a task file importing this module does not load torch
(``list tasks`` stays fast) and a method file does not load the data sources.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> module that defines it. Methods: models.*; tasks: data.*; both: errors, paths.
_EXPORTS: dict[str, str] = {
    # methods
    "Method": "benchmark.models.method",
    "FitContext": "benchmark.models.context",
    "register_method": "benchmark.models.method",
    "Classifier": "benchmark.models.training",
    "LabeledStates": "benchmark.models.training",
    "TrainConfig": "benchmark.models.training",
    "TrainResult": "benchmark.models.training",
    "accuracy_of": "benchmark.models.training",
    "batch_features": "benchmark.models.training",
    "fit": "benchmark.models.training",
    "freeze": "benchmark.models.training",
    "new_head": "benchmark.models.training",
    "normalized_feature_distance": "benchmark.models.training",
    "pooled_features": "benchmark.models.training",
    "predict_logits": "benchmark.models.training",
    "add_vector": "benchmark.models.merging",
    "parse_grid": "benchmark.models.merging",
    "select_scale": "benchmark.models.merging",
    "task_vector": "benchmark.models.merging",
    "ties_merge": "benchmark.models.merging",
    "dare": "benchmark.models.merge_many",
    "differing_parameters": "benchmark.models.merge_many",
    "fisher_merge": "benchmark.models.merge_many",
    "linear_grams": "benchmark.models.merge_many",
    "regmean_merge_modules": "benchmark.models.merge_many",
    "simple_average": "benchmark.models.merge_many",
    "task_arithmetic_merge": "benchmark.models.merge_many",
    "States": "benchmark.models.backbones.base",
    "StemInit": "benchmark.models.backbones.base",
    # tasks
    "Task": "benchmark.data.task",
    "register_task": "benchmark.data.task",
    "TASKS": "benchmark.data.task",
    "OfflineSource": "benchmark.data.sources",
    "HubSource": "benchmark.data.sources",
    "LocalFileSource": "benchmark.data.sources",
    "existing_path": "benchmark.data.sources",
    "image_dataset": "benchmark.data.sources",
    "package_file": "benchmark.data.sources",
    "read_idx": "benchmark.data.sources",
    "load_task_yaml": "benchmark.data.yaml_task",
    "nli_generator": "benchmark.data.nli_generator",
    "data_dir": "benchmark.paths",
    # outputs: a leaderboard column, a transferability estimator
    "Column": "benchmark.analysis.columns",
    "register_column": "benchmark.analysis.columns",
    "register_estimator": "benchmark.analysis.estimators",
    # errors a plug-in raises
    "BenchmarkError": "benchmark.errors",
    "ConfigError": "benchmark.errors",
    "DataError": "benchmark.errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # the real names, for type checkers and editors ("X as X": a re-export).
    # tests/test_api.py keeps them equal to _EXPORTS.
    from benchmark.analysis.columns import Column as Column
    from benchmark.analysis.columns import register_column as register_column
    from benchmark.analysis.estimators import register_estimator as register_estimator
    from benchmark.data import nli_generator as nli_generator
    from benchmark.data.sources import HubSource as HubSource
    from benchmark.data.sources import LocalFileSource as LocalFileSource
    from benchmark.data.sources import OfflineSource as OfflineSource
    from benchmark.data.sources import existing_path as existing_path
    from benchmark.data.sources import image_dataset as image_dataset
    from benchmark.data.sources import package_file as package_file
    from benchmark.data.sources import read_idx as read_idx
    from benchmark.data.task import TASKS as TASKS
    from benchmark.data.task import Task as Task
    from benchmark.data.task import register_task as register_task
    from benchmark.data.yaml_task import load_task_yaml as load_task_yaml
    from benchmark.errors import BenchmarkError as BenchmarkError
    from benchmark.errors import ConfigError as ConfigError
    from benchmark.errors import DataError as DataError
    from benchmark.models.backbones.base import States as States
    from benchmark.models.backbones.base import StemInit as StemInit
    from benchmark.models.context import FitContext as FitContext
    from benchmark.models.merge_many import dare as dare
    from benchmark.models.merge_many import differing_parameters as differing_parameters
    from benchmark.models.merge_many import fisher_merge as fisher_merge
    from benchmark.models.merge_many import linear_grams as linear_grams
    from benchmark.models.merge_many import regmean_merge_modules as regmean_merge_modules
    from benchmark.models.merge_many import simple_average as simple_average
    from benchmark.models.merge_many import task_arithmetic_merge as task_arithmetic_merge
    from benchmark.models.merging import add_vector as add_vector
    from benchmark.models.merging import parse_grid as parse_grid
    from benchmark.models.merging import select_scale as select_scale
    from benchmark.models.merging import task_vector as task_vector
    from benchmark.models.merging import ties_merge as ties_merge
    from benchmark.models.method import Method as Method
    from benchmark.models.method import register_method as register_method
    from benchmark.models.training import Classifier as Classifier
    from benchmark.models.training import LabeledStates as LabeledStates
    from benchmark.models.training import TrainConfig as TrainConfig
    from benchmark.models.training import TrainResult as TrainResult
    from benchmark.models.training import accuracy_of as accuracy_of
    from benchmark.models.training import batch_features as batch_features
    from benchmark.models.training import fit as fit
    from benchmark.models.training import freeze as freeze
    from benchmark.models.training import new_head as new_head
    from benchmark.models.training import normalized_feature_distance as normalized_feature_distance
    from benchmark.models.training import pooled_features as pooled_features
    from benchmark.models.training import predict_logits as predict_logits
    from benchmark.paths import data_dir as data_dir


def __getattr__(name: str) -> Any:
    try:
        module_name = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"benchmark.api has no {name!r}; see its docstring for the plug-in API") from None
    module = importlib.import_module(module_name)
    value = module if module_name.endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
