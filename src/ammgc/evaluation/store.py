"""Resumable per-fold result store: one JSON file per finished fold, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ammgc.errors import AmmgcError
from ammgc.io import atomic_write_json, ensure_writable_dir


class FoldStore:
    """``out/folds/<key>.json`` per finished fold, tagged with the run's fingerprint.

    Results of a different configuration in the same directory are never mixed in: they are an
    error telling the user to pick another output directory.
    """

    def __init__(self, out: Path, fingerprint: str) -> None:
        self.dir = ensure_writable_dir(out) / "folds"
        self.dir.mkdir(exist_ok=True)
        self.fingerprint = fingerprint
        marker = self.dir / "RUN"
        if marker.exists():
            existing = marker.read_text().strip()
            if existing != fingerprint:
                raise AmmgcError(f"{out} holds folds of a different run configuration ({existing}, this run "
                                 f"is {fingerprint}); choose another --out or delete {self.dir}")
        else:
            marker.write_text(fingerprint + "\n")

    def load_all(self) -> dict[str, dict[str, Any]]:
        records = {}
        for path in sorted(self.dir.glob("r*_f*.json")):
            try:
                record = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # atomic writes make this unlikely; an unreadable fold is simply redone
            if record.get("fingerprint") == self.fingerprint:
                records[path.stem] = record
        return records

    def save(self, key: str, record: dict[str, Any]) -> None:
        atomic_write_json(self.dir / f"{key}.json", {**record, "fingerprint": self.fingerprint})
