"""The OpenAPI document names every schema once: ninja keys components by class name, so two
schemas with one name would silently document one operation with the other's shape."""

import importlib
import inspect
import pkgutil

from ninja import Schema

import casebridge


def _api_schema_classes():
    for module_info in pkgutil.walk_packages(casebridge.__path__, "casebridge."):
        if module_info.name.endswith(".api") or ".fhir_api." in module_info.name:
            module = importlib.import_module(module_info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, Schema) and cls.__module__ == module.__name__:
                    yield cls


def test_api_schema_class_names_are_unique_across_packages():
    seen: dict[str, str] = {}
    clashes = []
    for cls in _api_schema_classes():
        if cls.__name__ in seen and seen[cls.__name__] != cls.__module__:
            clashes.append(f"{cls.__name__}: {seen[cls.__name__]} and {cls.__module__}")
        seen.setdefault(cls.__name__, cls.__module__)
    assert not clashes, "schema names used twice: " + "; ".join(clashes)
    assert len(seen) > 50
