"""kernel.nesting: how deep a parsed document nests, measured without recursion."""

from __future__ import annotations

import sys

import pytest

from casebridge.kernel.nesting import nested_deeper_than


def _nest(depth: int, *, leaf: object = "x") -> object:
    """A value of ``depth`` levels: lists and mappings alternating, the innermost holding ``leaf``."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("scalar", ["text", 3, None, 2.5, True])
def test_a_scalar_has_no_levels(scalar):
    assert not nested_deeper_than(scalar, 0)


@pytest.mark.parametrize("depth", [1, 2, 7, 64])
def test_the_limit_itself_passes_and_one_more_level_does_not(depth):
    assert not nested_deeper_than(_nest(depth), depth)
    assert nested_deeper_than(_nest(depth + 1), depth)


def test_the_deepest_branch_counts_not_the_first():
    wide = {"shallow": [1, 2], "also": {"a": 1}, "deep": _nest(10)}
    assert not nested_deeper_than(wide, 11)
    assert nested_deeper_than(wide, 10)


def test_empty_containers_are_levels_too():
    assert nested_deeper_than([[[]]], 2)
    assert not nested_deeper_than([[[]]], 3)


def test_nesting_far_past_the_recursion_limit_is_measured():
    deep = _nest(sys.getrecursionlimit() * 5)
    assert nested_deeper_than(deep, 100)
