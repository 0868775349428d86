"""Upload refusals with their own HTTP status; each names the ``file`` field and the reason."""

from __future__ import annotations

from casebridge.kernel.errors import DomainError


class FileTooLarge(DomainError):
    status = 413
    title = "File too large"

    @classmethod
    def on(cls, field: str, reason: str) -> FileTooLarge:
        return cls(f"{field}: {reason}", field_errors={field: [reason]})


class UnsupportedFileType(DomainError):
    status = 415
    title = "Unsupported file type"

    @classmethod
    def on(cls, field: str, reason: str) -> UnsupportedFileType:
        return cls(f"{field}: {reason}", field_errors={field: [reason]})
