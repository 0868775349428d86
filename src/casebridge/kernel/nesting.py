"""How deep the arrays and objects (lists and dicts) of a parsed document nest. Pure functions.

JSON and YAML readers, validators and serializers walk nested values by recursion, so a document
nested a few hundred levels deep (a few kilobytes of ``[[[[``) runs Python out of stack: a
``RecursionError``, which no parser reports as a syntax error and which surfaced as a 500. Readers
catch that error where they parse, and check what they parsed against a depth limit before
anything else recurses into it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

S = TypeVar("S")
T = TypeVar("T")

#: How deep a document people write by hand may nest: a criteria set, a benefits document, a
#: negotiation scenario, an API request body. The deepest of the starter criteria, the demo
#: benefits and the coverage test documents nest 7 levels; a Kleene rule nested this deep would be
#: unreadable long before it reached the limit.
AUTHORED_DOCUMENT_DEPTH = 64


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether the lists and dicts of a parsed value nest more than ``limit`` levels (the value itself
    is level 1). Iterative, so it never runs out of stack itself; it walks one level at a time and
    stops at the first level past the limit. It runs for every imported FHIR resource, so it checks
    the concrete types the JSON and YAML parsers build (a Mapping check costs three times as much)."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below = []
        for container in level:
            for child in container.values() if isinstance(container, dict) else container:
                if isinstance(child, dict | list):
                    below.append(child)
        level = below
    return False


def text_nests_within(text: str, limit: int) -> bool:
    """Whether JSON ``text`` surely nests at most ``limit`` levels, read off the text without a walk:
    every level opens with a bracket, so text holding at most ``limit`` of them cannot nest deeper
    (brackets inside strings only over-count). False means "walk to know"."""
    return text.count("{") + text.count("[") <= limit


def too_deep(limit: int) -> str:
    """The reason given for a document nested past ``limit`` levels, or too deep to parse at all."""
    return f"nests lists and objects more than {limit} levels deep"


class TooDeep(ValueError):
    """A document nested past its limit, or too deeply for its parser; the message is ``too_deep``."""

    def __init__(self, limit: int) -> None:
        super().__init__(too_deep(limit))


def parse_within(parse: Callable[[S], T], source: S, limit: int = AUTHORED_DOCUMENT_DEPTH) -> T:
    """``parse(source)``, refused with ``TooDeep`` when the parser runs out of stack on its nesting or
    what it returns nests past ``limit``; the parser's own errors pass through."""
    try:
        document = parse(source)
    except RecursionError as exc:  # YAML and JSON parsers recurse per level, giving up a few hundred down
        raise TooDeep(limit) from exc
    if nested_deeper_than(document, limit):
        raise TooDeep(limit)
    return document
