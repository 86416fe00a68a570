"""Where BoTorch's compiled qLogEHVI kernel is cached: inside the virtual environment
(so a second checkout's environment never rebuilds this one's), unless the user chose."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bayesopt import kernels


def test_the_cache_lives_in_this_environment_unless_one_was_chosen(monkeypatch) -> None:
    if sys.prefix == sys.base_prefix:
        pytest.skip("not running in a virtual environment: the cache is left where torch puts it")
    monkeypatch.delenv("TORCH_EXTENSIONS_DIR", raising=False)
    kernels.use_environment_cache()
    assert os.environ["TORCH_EXTENSIONS_DIR"] == str(Path(sys.prefix) / "torch-extensions")
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", "/somewhere/else")
    kernels.use_environment_cache()
    assert os.environ["TORCH_EXTENSIONS_DIR"] == "/somewhere/else"


def test_build_leaves_the_compiled_kernel_in_the_cache(monkeypatch) -> None:
    if sys.prefix == sys.base_prefix:
        pytest.skip("not running in a virtual environment: the cache is left where torch puts it")
    monkeypatch.delenv("TORCH_EXTENSIONS_DIR", raising=False)
    kernels.build()  # `make` ran it after installing: here it only loads the build
    cache = Path(os.environ["TORCH_EXTENSIONS_DIR"])
    assert list(cache.glob("logei_fused_ext/logei_fused_ext*.so")), sorted(cache.rglob("*"))
