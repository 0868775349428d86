"""What a file really is, judged by its bytes. No database."""

import io
import zipfile

import pytest

from casebridge.communications import filetypes as ft


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def plain_zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "hello")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", ft.PDF),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ft.PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", ft.JPEG),
        (b"II*\x00\x08\x00", ft.TIFF),
        (b"MM\x00*\x00\x00", ft.TIFF),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"Hello, world", None),
        (b"GIF89a", None),
    ],
)
def test_magic_numbers_identify_each_allowed_binary_type(head, expected):
    assert ft.magic_type(head) == expected


def test_a_docx_is_a_zip_holding_the_word_document_part():
    assert ft.is_docx(io.BytesIO(docx_bytes()))
    assert not ft.is_docx(io.BytesIO(plain_zip_bytes()))
    assert not ft.is_docx(io.BytesIO(b"PK\x03\x04 truncated"))


def test_text_must_be_utf8_without_nul_bytes():
    assert ft.is_utf8_text([b"Spoke with daughter ", "Jos\u00e9".encode()])
    # A multi-byte character split across chunks is still valid text.
    assert ft.is_utf8_text([b"caf\xc3", b"\xa9"])
    assert not ft.is_utf8_text([b"caf\xe9"])  # Latin-1, not UTF-8
    assert not ft.is_utf8_text([b"abc\x00def"])
    assert not ft.is_utf8_text([b"caf\xc3"])  # truncated sequence at the end


def test_declared_type_is_normalised_and_a_generic_type_falls_back_to_the_extension():
    assert ft.declared_type("text/plain; charset=utf-8") == ft.TEXT
    assert ft.declared_type("IMAGE/JPG") == ft.JPEG
    assert ft.declared_type("application/octet-stream", "scan.TIFF") == ft.TIFF
    assert ft.declared_type("", "letter.docx") == ft.DOCX
    assert ft.declared_type("application/octet-stream", "payload.exe") == "application/octet-stream"
    assert ft.declared_type("application/zip", "letter.docx") == "application/zip"


@pytest.mark.parametrize(
    ("size", "text"),
    [(10 * 1024 * 1024, "10"), (int(12.4 * 1024 * 1024), "12.4"), (1, "0.01"), (512 * 1024, "0.50")],
)
def test_sizes_are_reported_in_megabytes_never_as_zero(size, text):
    assert ft.format_mb(size) == text
