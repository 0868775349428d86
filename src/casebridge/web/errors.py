"""Turns service errors raised in web views into pages, and into form errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from casebridge.kernel.errors import DomainError, NotFound, PermissionDenied

R = TypeVar("R", bound=HttpResponseBase)


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") or not isinstance(exc, DomainError):
            return None
        return render(request, "web/error.html", {"title": exc.title, "detail": exc.detail}, status=exc.status)


def apply_errors(form: forms.BaseForm, exc: DomainError) -> None:
    """Attach a service's field errors to the form fields they name, the rest to the form."""
    if not exc.field_errors:
        form.add_error(None, exc.detail)
        return
    for field, messages in exc.field_errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{field}: {message}")


def actor_required(view: Callable[..., R]) -> Callable[..., R | HttpResponse]:
    """Signed in, with an active role in some organization."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> R | HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "actor", None) is None:
            raise PermissionDenied("Your account has no active role in any organization. Ask your administrator.")
        return view(request, *args, **kwargs)

    return wrapper


__all__ = ["DomainErrorMiddleware", "NotFound", "actor_required", "apply_errors"]
