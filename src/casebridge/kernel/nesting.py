"""How deep the arrays and objects (lists and mappings) of a parsed document nest. Pure functions.

JSON and YAML readers, validators and serializers walk nested values by recursion, so a document
nested a few hundred levels deep (a few kilobytes of ``[[[[``) runs Python out of stack: a
``RecursionError``, which no parser reports as a syntax error and which surfaced as a 500. Readers
catch that error where they parse, and check what they parsed against a depth limit before
anything else recurses into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: How deep a document people write by hand may nest: a criteria set, a benefits document, a
#: negotiation scenario, an API request body. The deepest of the starter criteria, the demo
#: benefits and the coverage test documents nest 7 levels; a Kleene rule nested this deep would be
#: unreadable long before it reached the limit.
AUTHORED_DOCUMENT_DEPTH = 64


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether the lists and mappings of a parsed value nest more than ``limit`` levels (the value
    itself is level 1). Iterative, so it never runs out of stack itself, and it stops at the first
    container past the limit."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, Mapping | list) else []
    while stack:
        container, level = stack.pop()
        if level > limit:
            return True
        children = container.values() if isinstance(container, Mapping) else container
        stack.extend((child, level + 1) for child in children if isinstance(child, Mapping | list))
    return False


def too_deep(limit: int) -> str:
    """The reason given for a document nested past ``limit`` levels, or too deep to parse at all."""
    return f"nests lists and objects more than {limit} levels deep"
