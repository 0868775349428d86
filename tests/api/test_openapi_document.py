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


def _unbounded_integers(node, where, components, seen=frozenset()):
    """Where in a request schema an integer has no upper bound."""
    if isinstance(node, list):
        for item in node:
            yield from _unbounded_integers(item, where, components, seen)
        return
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _unbounded_integers(components[name], f"{where}<{name}>", components, seen | {name})
        return
    if node.get("type") == "integer" and "maximum" not in node and "exclusiveMaximum" not in node:
        yield where
    for name, child in node.get("properties", {}).items():
        yield from _unbounded_integers(child, f"{where}.{name}", components, seen)
    for key in ("items", "anyOf", "allOf", "oneOf", "additionalProperties"):
        if key in node:
            yield from _unbounded_integers(node[key], f"{where}[{key}]", components, seen)


def test_every_integer_a_request_carries_has_an_upper_bound():
    """An id or count past 2**63 reaches the database and overflows its integers (a 500 on SQLite):
    every integer in a request's path, query or body must be bounded, lists and maps included."""
    from casebridge.api.router import api

    spec = api.get_openapi_schema()
    components = spec["components"]["schemas"]
    unbounded = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method} {path} {parameter['name']}"
                unbounded += _unbounded_integers(parameter.get("schema", {}), where, components)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded_integers(content.get("schema", {}), f"{method} {path} body", components)
    assert not unbounded, "integers without an upper bound: " + "; ".join(unbounded)
    assert len(spec["paths"]) > 50
