"""The import report: counts per resource type and outcome, and every rejection with where and why."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("created", "updated", "unchanged", "rejected", "skipped")
MAX_LISTED_REJECTIONS = 1000


@dataclass
class Rejection:
    file: str
    where: str
    resource_type: str
    source_id: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {
            "file": self.file,
            "where": self.where,
            "resource_type": self.resource_type,
            "id": self.source_id,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        what = f"{self.resource_type}/{self.source_id}" if self.source_id else self.resource_type or "input"
        where = f"{self.file} {self.where}".strip()
        return f"{where}: {what}: {self.reason}"


@dataclass
class ImportReport:
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: dict.fromkeys(OUTCOMES, 0)))
    rejections: list[Rejection] = field(default_factory=list)
    rejected_total: int = 0
    files: list[str] = field(default_factory=list)
    cases_opened: int = 0
    run_id: int | None = None
    seconds: float = 0.0
    # An NDJSON import counts a chunk's writes on its write-behind thread while it reads the next chunk.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, resource_type: str, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.counts[resource_type][outcome] += n

    def reject(self, *, file: str, where: str, resource_type: str, source_id: str, reason: str) -> Rejection:
        # A rejected value may be quoted in the reason; the report is stored (PostgreSQL jsonb, which
        # cannot hold a NUL character) and shown, so a NUL is written out as text.
        file, where, resource_type, source_id, reason = (
            text.replace("\x00", "\\u0000") for text in (file, where, resource_type, source_id, reason)
        )
        rejection = Rejection(file, where, resource_type, source_id, reason)
        with self._lock:
            self.rejected_total += 1
            if resource_type:
                self.counts[resource_type]["rejected"] += 1
            if len(self.rejections) < MAX_LISTED_REJECTIONS:
                self.rejections.append(rejection)
        return rejection

    def total(self, outcome: str) -> int:
        with self._lock:
            return sum(c[outcome] for c in self.counts.values())

    @property
    def changed(self) -> int:
        return self.total("created") + self.total("updated")

    @property
    def resources(self) -> int:
        with self._lock:
            return sum(sum(c.values()) for c in self.counts.values())

    def counts_dict(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {t: dict(c) for t, c in sorted(self.counts.items())}

    def snapshot(self) -> tuple[dict[str, dict[str, int]], int, int]:
        return {t: dict(c) for t, c in self.counts.items()}, len(self.rejections), self.rejected_total

    def restore_counts(self, snapshot: tuple[dict[str, dict[str, int]], int, int]) -> None:
        """Undo the counts of a rolled-back transaction bundle; its rejections stay listed."""
        counts, _, _ = snapshot
        rejected_now = {t: c["rejected"] for t, c in self.counts.items()}
        self.counts.clear()
        for t, c in counts.items():
            self.counts[t].update(c)
        for t, n in rejected_now.items():
            self.counts[t]["rejected"] = n

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "files": self.files,
            "counts": self.counts_dict(),
            "totals": {o: self.total(o) for o in OUTCOMES},
            "cases_opened": self.cases_opened,
            "rejected_total": self.rejected_total,
            "rejections": [r.as_dict() for r in self.rejections],
            "seconds": round(self.seconds, 3),
        }

    def as_text(self) -> str:
        width = max([len(t) for t in self.counts] + [13])
        lines = [f"{'resource type':<{width}}  " + "  ".join(f"{o:>9}" for o in OUTCOMES)]
        for rtype, c in sorted(self.counts.items()):
            lines.append(f"{rtype:<{width}}  " + "  ".join(f"{c[o]:>9}" for o in OUTCOMES))
        lines.append(f"{'total':<{width}}  " + "  ".join(f"{self.total(o):>9}" for o in OUTCOMES))
        if self.cases_opened:
            lines.append(f"Hospital cases opened from admissions: {self.cases_opened}")
        if self.rejected_total:
            lines.append(f"Rejected ({self.rejected_total}):")
            lines.extend(f"  {r}" for r in self.rejections)
            if self.rejected_total > len(self.rejections):
                lines.append(f"  ... and {self.rejected_total - len(self.rejections)} more")
        return "\n".join(lines)
