"""The registry: the algorithms and problems this server runs, with their schemas."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter

from jobs import registry

router = APIRouter(tags=["registry"])


@router.get("/registry")
def get_registry() -> dict[str, Any]:
    return _described()


@lru_cache(maxsize=1)
def _described() -> dict[str, Any]:
    return registry.describe()
