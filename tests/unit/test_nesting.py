"""kernel.nesting: how deep a parsed document nests, measured without recursion."""

from __future__ import annotations

import json
import sys

import pytest

from casebridge.kernel.nesting import nested_deeper_than, text_nests_within


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


@pytest.mark.parametrize("depth", [1, 7, 64])
def test_text_with_no_more_brackets_than_the_limit_nests_within_it(depth):
    text = json.dumps(_nest(depth))
    assert text_nests_within(text, depth)
    assert not nested_deeper_than(json.loads(text), depth)


def test_text_with_more_brackets_than_the_limit_needs_the_walk():
    wide = json.dumps({"a": [[1]] * 70})  # 72 brackets, 3 levels: the text cannot tell, the walk can
    assert not text_nests_within(wide, 64)
    assert not nested_deeper_than(json.loads(wide), 64)
    assert not text_nests_within(json.dumps(_nest(65)), 64)


def test_brackets_inside_strings_only_over_count():
    text = json.dumps({"note": "[" * 100})
    assert not text_nests_within(text, 64)  # a walk then finds one level
    assert text_nests_within(json.dumps({"note": "{[x]}"}), 3)
