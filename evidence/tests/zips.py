"""Making a person's export ZIP in tests, and altering it as someone who wants to fool the
offline check would."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidence import keys, offline
from evidence.export import write_export

Change = Callable[[dict[str, bytes], dict[str, Any]], None]


def export(registration: Any, tmp_path: Path, procedure: Any = None) -> Path:
    path = tmp_path / "buzon.zip"
    person = registration.procedure.person
    with path.open("wb") as out:
        write_export(out, person=person, procedure=procedure, requested_by=person.user)
    return path


def trusted_key(tmp_path: Path) -> Path:
    path = tmp_path / "agencia.pub"
    path.write_text(keys.public_key_pem(keys.current_key().key_id), encoding="ascii")
    return path


def read(path: Path) -> tuple[dict[str, bytes], dict[str, Any]]:
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return files, json.loads(files["manifest.json"])


def write(path: Path, files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def rewrite(path: Path, change: Change, *, resign: bool = False) -> None:
    """What someone who wants to alter the ZIP does: change files and the manifest, and fix
    the manifest's file hashes so the ZIP looks consistent. Without the agency's key that
    breaks the manifest's signature. `resign` signs it again with the agency's key, as only
    the agency's own system could: what the check still finds then is what the signed
    evidence entries contradict (a tampered database, say, before the export read it)."""
    files, manifest = read(path)
    change(files, manifest)
    for name, data in files.items():
        if name in manifest["files"]:
            manifest["files"][name]["sha256"] = hashlib.sha256(data).hexdigest()
            manifest["files"][name]["size"] = len(data)
    if resign:
        manifest["signature"] = keys.current_key().sign(offline.signed_bytes(manifest))
    write(path, files, manifest)
