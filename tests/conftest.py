"""Test setup: the Hugging Face Hub is never reached; hub code paths use local stand-ins."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

#: Fixtures that train real models: a test using one is marked slow (``scripts/test.sh --fast``
#: leaves it out). Modules that train in subprocesses mark themselves (``pytestmark``).
TRAINING_FIXTURES = frozenset({"smoke_cache", "smoke_results"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def smoke_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A feature/model cache private to this test session (so tests start from nothing)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def smoke_results(tmp_path_factory: pytest.TempPathFactory, smoke_cache: Path) -> Path:
    """The whole smoke suite, run once per test session on real data and real backbones."""
    from benchmark.pipeline import RunRequest, run_pipeline

    results = tmp_path_factory.mktemp("results")
    summary = run_pipeline(RunRequest("smoke", results, cache_dir=smoke_cache))  # the CLI's entry point
    assert summary.n_failed == 0, summary.line()
    return results
