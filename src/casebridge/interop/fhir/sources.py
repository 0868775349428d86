"""Reading import input: files and folders of NDJSON (bulk data) and JSON (Bundles, single resources).

Every problem with the input itself (missing, too large, binary, not JSON) is an ``InputProblem``
with a sentence that names the file and says what to do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
NDJSON_SUFFIXES = (".ndjson", ".jsonl")
JSON_SUFFIXES = (".json",)
_SNIFF_BYTES = 64 * 1024
#: How deep the arrays and objects of one resource may nest. Real resources nest far less (the
#: deepest in the shared Synthea, FHIR and Da Vinci examples, a whole notification Bundle, is 18
#: levels); fhir.resources validates nested elements by recursion and runs out of Python stack at a
#: few hundred levels, which was a 500 on the API and stopped a whole file import.
MAX_RESOURCE_DEPTH = 100
#: The reason given for JSON the json module itself cannot read for its nesting.
TOO_DEEP_TO_READ = "is nested too deeply to read (JSON arrays and objects hundreds of levels deep)"


class InputProblem(Exception):
    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


def max_import_bytes() -> int:
    """The largest file (or request body) an import accepts: settings.FHIR_IMPORT_MAX_BYTES, else the
    environment variable CASEBRIDGE_IMPORT_MAX_BYTES, else 256 MiB."""
    configured = getattr(settings, "FHIR_IMPORT_MAX_BYTES", None) or os.environ.get("CASEBRIDGE_IMPORT_MAX_BYTES")
    return int(configured) if configured else DEFAULT_MAX_BYTES


def human_bytes(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return f"{n} bytes"


def expand(paths: list[str]) -> list[Path]:
    """The files named, and the .ndjson/.json files inside folders named (not recursing into hidden ones)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.name.lower().endswith(NDJSON_SUFFIXES + JSON_SUFFIXES)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputProblem(raw, "no such file or folder")
    return files


def is_ndjson(path: Path) -> bool:
    return path.name.lower().endswith(NDJSON_SUFFIXES)


def type_from_name(path: Path) -> str | None:
    """Bulk data files are named for their type: ``Patient.ndjson``, ``Patient.000.ndjson``, ``1.Patient.ndjson``."""
    for part in path.name.split("."):
        if part[:1].isupper() and part.isalpha():
            return part
    return None


def sniff_binary(head: bytes) -> str | None:
    """Why ``head`` is not JSON text (binary or not UTF-8), or None."""
    if b"\x00" in head:
        return "is binary data, not FHIR JSON (it contains NUL bytes)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte character cut by the sniff window is fine
            return f"is not UTF-8 text (invalid byte at offset {exc.start}): binary data or a wrong encoding"
    return None


def check_file(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise InputProblem(
            str(path),
            f"is {human_bytes(size)}, larger than the import limit of {human_bytes(max_bytes)}; split it "
            "(bulk NDJSON can be split by lines) or raise CASEBRIDGE_IMPORT_MAX_BYTES",
        )
    if size == 0:
        raise InputProblem(str(path), "is empty")
    with path.open("rb") as fh:
        problem = sniff_binary(fh.read(_SNIFF_BYTES))
    if problem:
        raise InputProblem(str(path), problem)


def ndjson_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of an NDJSON file with their line numbers (blank lines are not resources)."""
    with path.open("rb", buffering=1 << 20) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.isspace():
                yield number, line


def count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def json_error(exc: json.JSONDecodeError, text_length: int, *, one_line: bool = False) -> str:
    """A JSON syntax error in words, saying so when the text simply stops (a cut download or copy)."""
    truncated = exc.pos >= text_length - 1 or exc.msg.startswith("Unterminated")
    hint = " (it looks truncated)" if truncated else ""
    where = f"column {exc.colno}" if one_line else f"line {exc.lineno} column {exc.colno}"
    return f"is not valid JSON: {exc.msg} ({where}){hint}"


def parse_json_document(data: bytes, name: str) -> dict[str, Any]:
    problem = sniff_binary(data[:_SNIFF_BYTES])
    if problem:
        raise InputProblem(name, problem)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputProblem(name, f"is not UTF-8 text (invalid byte at offset {exc.start})") from exc
    if not text.strip():
        raise InputProblem(name, "is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputProblem(name, json_error(exc, len(text.rstrip()))) from exc
    except RecursionError as exc:  # the json module gives up on nesting near Python's recursion limit
        raise InputProblem(name, TOO_DEEP_TO_READ) from exc
    if not isinstance(document, dict):
        raise InputProblem(name, f"holds a JSON {type(document).__name__}, not a FHIR resource or Bundle")
    if not isinstance(document.get("resourceType"), str):
        raise InputProblem(name, "has no resourceType: it is not a FHIR resource or Bundle")
    return document


def nul_character_path(value: Any, path: str) -> str | None:
    """Where in a parsed JSON value (keys included) a string holds a NUL character (U+0000), as a
    FHIRPath-like location such as ``Patient.name[0].family``; None if nowhere. FHIR strings may not
    hold control characters, and PostgreSQL's text and jsonb cannot store a NUL at all."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return f"{path}.{key!r}"
            if (found := nul_character_path(item, f"{path}.{key}")) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := nul_character_path(item, f"{path}[{index}]")) is not None:
                return found
    return None
