"""The README's catalogue keeps up with the registry: a user reading its algorithm table
and problem list learns of everything `GET /registry` offers."""

from __future__ import annotations

import re
from pathlib import Path

from jobs import registry

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_registered_algorithm_has_a_row_in_the_algorithm_table():
    rows = set(re.findall(r"^\| `([a-z0-9-]+)` \|", README, flags=re.MULTILINE))
    assert set(registry.ALGORITHMS) <= rows, sorted(set(registry.ALGORITHMS) - rows)


def test_every_test_function_is_named_in_the_readme():
    named = set(re.findall(r"`([a-z0-9-]+)`", README))
    ids = set(registry.problem_kind("test-function").definitions())
    # zdt2 and zdt3 are named through the range `zdt1`–`zdt3`.
    missing = {i for i in ids - named if i not in {"zdt2"}}
    assert not missing, sorted(missing)
