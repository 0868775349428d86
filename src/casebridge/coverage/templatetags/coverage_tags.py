"""Template filters for amounts in cents."""

from __future__ import annotations

from django import template

from casebridge.coverage.money import format_cents

register = template.Library()


@register.filter
def money(cents: int | None) -> str:
    """``123456`` -> ``$1,234.56``; blank for no amount."""
    return "" if cents is None else format_cents(int(cents))


@register.filter
def dollars_input(cents: int | None) -> str:
    """Cents as a plain decimal for a form field: ``123456`` -> ``1234.56``."""
    return "" if cents is None else f"{int(cents) / 100:.2f}"


@register.filter
def percent_of(value: int, whole: int) -> int:
    """Bar width in percent of the largest value (at least 1 when non-zero)."""
    if not whole:
        return 0
    share = round(abs(int(value)) * 100 / abs(int(whole)))
    return max(share, 1) if value else 0


@register.filter
def label(value: str) -> str:
    return str(value).replace("_", " ")
