"""Which files CaseBridge accepts, and what a file really is, judged by its leading bytes.

Pure Python (no Django): the declared content type comes from the client and
cannot be trusted, so an upload is accepted only when its bytes say the same.
"""

from __future__ import annotations

import codecs
import math
import zipfile
from collections.abc import Iterable
from typing import IO

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

ALLOWED: dict[str, str] = {
    PDF: "PDF",
    PNG: "PNG",
    JPEG: "JPEG",
    TIFF: "TIFF",
    TEXT: "plain text",
    DOCX: "Word document (DOCX)",
}
ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "image/x-png": PNG, "image/tif": TIFF}
EXTENSIONS = {
    ".pdf": PDF,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".txt": TEXT,
    ".docx": DOCX,
}
GENERIC = {"", "application/octet-stream", "binary/octet-stream"}

MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"II*\x00", TIFF),  # little-endian TIFF
    (b"MM\x00*", TIFF),  # big-endian TIFF
    (b"PK\x03\x04", "application/zip"),
]
HEAD_BYTES = 8


def allowed_list() -> str:
    return ", ".join(ALLOWED.values())


def declared_type(content_type: str | None, file_name: str = "") -> str:
    """The type the client claims, normalised. A generic type falls back to the file name's extension,
    because browsers send application/octet-stream for extensions they do not know."""
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    ct = ALIASES.get(ct, ct)
    if ct in GENERIC:
        dot = file_name.rfind(".")
        ext = file_name[dot:].lower() if dot >= 0 else ""
        return EXTENSIONS.get(ext, ct or "application/octet-stream")
    return ct


def magic_type(head: bytes) -> str | None:
    for signature, ct in MAGIC:
        if head.startswith(signature):
            return ct
    return None


def is_docx(fileobj: IO[bytes]) -> bool:
    """A DOCX is a ZIP whose package holds the main Word part; any other ZIP is not one."""
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        fileobj.seek(0)
    return "[Content_Types].xml" in names and "word/document.xml" in names


def is_utf8_text(chunks: Iterable[bytes]) -> bool:
    """Plain text must decode as UTF-8 and hold no NUL bytes (a sure sign of binary content)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        for chunk in chunks:
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def describe(ct: str) -> str:
    return ALLOWED.get(ct, ct)


def format_mb(size: int) -> str:
    """Megabytes for people: one decimal, trailing zero dropped; below 1 MB two decimals, rounded up
    so a file one byte over the limit is never reported as "0 MB over"."""
    mb = size / (1024 * 1024)
    text = f"{mb:.1f}" if mb >= 1 else f"{math.ceil(mb * 100) / 100:.2f}"
    return text[:-2] if text.endswith(".0") else text
