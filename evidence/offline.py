"""Check an evidence export (evidence/export.py) offline: no database, no network.

    python -m evidence.offline buzon.zip [--clave agencia.pub ...] [--punto-de-control cp.json]

It needs only Python and the `cryptography` package, plus this file, evidence/chain.py,
evidence/merkle.py and an empty evidence/__init__.py. It checks that:
- manifest.json is signed by a trusted Ed25519 key (given with --clave; without it, the keys
  inside the ZIP are used and it says so: compare their fingerprints with the ones the agency
  publishes). The signature covers the whole manifest: holder, scope, time, notifications,
  evidence entries, every file's name and SHA-256, certificates. So the ZIP is the very set
  the agency's system produced, nothing added, removed or rewritten since;
- the ZIP holds the files the manifest lists, each with its SHA-256, and nothing else;
- every checkpoint's statement is signed by a trusted Ed25519 key;
- a checkpoint given with --punto-de-control (a statement obtained elsewhere, e.g. published
  by the agency) is the very one in the ZIP with that number;
- there is at least one evidence entry, and every entry hashes to its recorded hash and its
  Merkle inclusion proof leads to the root its checkpoint signed;
- each notification's content hashes to the content hash in its deposit entry; its attachments
  are the ones that entry names; and its certificate PDF is the one a signed entry registered.
Messages are in Spanish, for the people who receive such a ZIP. Exit status: 0 intact, 1
altered or incomplete, 2 unreadable, 3 consistent but checked only against the ZIP's own keys.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from evidence import chain, merkle

FORMAT = "buzon-export/2"
EXPORT_TYPE = "buzon-evidence-export"  # what the manifest's signature is of (cf. checkpoints)
MANIFEST = "manifest.json"  # the one file the manifest does not list: it cannot hash itself
UNTRUSTED_KEY = 3  # exit status: consistent, but signed by keys taken from the ZIP itself


def signed_bytes(manifest: dict[str, Any]) -> bytes:
    """What the manifest's signature covers: the canonical JSON of all of it but the signature
    (evidence/export.py signs these bytes; the check recomputes them from what it read)."""
    return chain.dumps(
        {key: value for key, value in manifest.items() if key != "signature"}
    ).encode()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _value in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("a key appears twice")
    return dict(pairs)


def _canonical(text: str) -> dict[str, Any] | None:
    """The object, if `text` is exactly its canonical JSON (one spelling, no repeated keys)."""
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except ValueError:
        return None
    if not isinstance(value, dict) or chain.dumps(value) != text:
        return None
    return value


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _load_key(pem: bytes) -> Ed25519PublicKey:
    public = serialization.load_pem_public_key(pem)
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("no es una clave pública Ed25519")
    return public


class Checker:
    def __init__(self, archive: zipfile.ZipFile, trusted: dict[str, Ed25519PublicKey]) -> None:
        self.archive = archive
        self.trusted = trusted
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def read(self, path: str) -> bytes | None:
        try:
            return self.archive.read(path)
        except KeyError:
            self.problem(f"falta el archivo {path}")
            return None

    def check(self, published: dict[str, Any] | None) -> None:
        if self.manifest.get("format") == "buzon-export/1":
            self.problem(
                "formato buzon-export/1, anterior a la firma del manifiesto: no se puede "
                "comprobar que la exportación esté completa; pida una exportación nueva"
            )
            return
        if self.manifest.get("format") != FORMAT or self.manifest.get("type") != EXPORT_TYPE:
            self.problem(f"formato desconocido: {self.manifest.get('format')!r}")
            return
        if not self.trusted:
            self._trust_the_zips_own_keys()
        self._signature()
        self._files()
        roots = self._checkpoints(published)
        entries = self._entries(roots)
        self._notifications(entries)

    def _trust_the_zips_own_keys(self) -> None:
        for key_id, pem in self.manifest.get("public_keys", {}).items():
            public = _load_key(pem.encode())
            if _key_id(public) == key_id:
                self.trusted[key_id] = public
        self.notes.append(
            "se usaron las claves públicas incluidas en el ZIP (huellas: "
            + ", ".join(sorted(self.trusted))
            + "); compárelas con las que publica la entidad, o use --clave"
        )

    def _signature(self) -> None:
        """The manifest is the agency's: without this, anyone could list what they like."""
        key_id, signature = self.manifest.get("key"), self.manifest.get("signature")
        if not isinstance(key_id, str) or not isinstance(signature, str):
            self.problem(
                "el manifiesto no está firmado: no se puede saber si lo generó la entidad ni "
                "si la exportación está completa"
            )
            return
        signer = self.trusted.get(key_id)
        if signer is None:
            self.problem(
                f"el manifiesto está firmado con una clave que no es de confianza ({key_id})"
            )
            return
        try:
            signer.verify(bytes.fromhex(signature), signed_bytes(self.manifest))
        except (InvalidSignature, ValueError):
            self.problem(
                "la firma del manifiesto no es válida: el manifiesto se modificó después de "
                "que la entidad lo firmara"
            )

    def _files(self) -> None:
        names = self.archive.namelist()
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.problem(f"{name}: aparece más de una vez en el ZIP")
        listed = self.manifest.get("files", {})
        for path, expected in listed.items():
            data = self.read(path)
            if data is not None and hashlib.sha256(data).hexdigest() != expected["sha256"]:
                self.problem(f"{path}: el archivo fue modificado (su SHA-256 no coincide)")
        for name in sorted(set(names)):
            if name not in listed and name != MANIFEST:
                self.problem(f"{name}: archivo añadido, no figura en el manifiesto")

    def _checkpoints(self, published: dict[str, Any] | None) -> dict[int, tuple[str, int]]:
        roots: dict[int, tuple[str, int]] = {}
        for checkpoint in self.manifest.get("checkpoints", []):
            number = checkpoint["number"]
            statement = checkpoint["statement"]
            body = json.loads(statement)
            signer = self.trusted.get(body.get("key", ""))
            label = f"punto de control n.° {number}"
            if signer is None:
                self.problem(f"{label}: firmado con una clave que no es de confianza")
                continue
            try:
                signer.verify(bytes.fromhex(checkpoint["signature"]), statement.encode())
            except (InvalidSignature, ValueError):
                self.problem(f"{label}: la firma no es válida")
                continue
            if body.get("number") != number:
                self.problem(f"{label}: el número no coincide con el firmado")
                continue
            roots[number] = (body["merkle_root"], body["entries"])
        if published is not None:
            number = published.get("number")
            mine = {c["number"]: c["statement"] for c in self.manifest.get("checkpoints", [])}
            theirs = published.get("statement", json.dumps(published))
            if number not in mine:
                self.problem(f"el punto de control n.° {number} dado no está en el ZIP")
            elif chain.sha256_hex(mine[number]) != chain.sha256_hex(theirs):
                self.problem(f"el punto de control n.° {number} del ZIP no es el publicado")
            else:
                self.notes.append(f"el punto de control n.° {number} coincide con el publicado")
        return roots

    def _entries(self, roots: dict[int, tuple[str, int]]) -> list[dict[str, Any]]:
        verified: list[dict[str, Any]] = []
        if not self.manifest.get("entries"):
            self.problem("no trae ningún registro de evidencia: la exportación está incompleta")
            return verified
        for item in self.manifest.get("entries", []):
            label = f"registro {item.get('position')}"
            canonical = item["canonical"]
            body = _canonical(canonical)
            if chain.sha256_hex(canonical) != item["hash"] or body is None:
                self.problem(f"{label}: su contenido no corresponde a su huella (alterado)")
                continue
            inclusion = item.get("inclusion")
            if inclusion is None:
                self.problem(f"{label}: no está sellado por ningún punto de control del ZIP")
                continue
            root = roots.get(inclusion["checkpoint"])
            if root is None or inclusion["size"] != root[1]:
                self.problem(f"{label}: su punto de control falta o no es válido")
                continue
            if not merkle.verify_inclusion(
                item["hash"], inclusion["index"], inclusion["size"], inclusion["path"], root[0]
            ):
                self.problem(f"{label}: la prueba de inclusión no lleva a la raíz firmada")
                continue
            verified.append(body)
        return verified

    def _notifications(self, entries: list[dict[str, Any]]) -> None:
        deposits = {e["notification"]: e for e in entries if e["kind"] == "notification_deposited"}
        certificates = {
            e["data"].get("code"): (e["notification"], e["data"].get("sha256"))
            for e in entries
            if e["kind"] == "certificate_issued"
        }
        for item in self.manifest.get("notifications", []):
            label = f"notificación {item['public_id']}"
            deposit = deposits.get(item["id"])
            if deposit is None:
                self.problem(f"{label}: no hay un registro de depósito verificado")
                continue
            self._content(label, item, deposit)
            hashes = []
            for attachment in item["attachments"]:
                data = self.read(attachment["path"])
                if data is not None:
                    hashes.append(hashlib.sha256(data).hexdigest())
            if hashes != deposit["attachments_sha256"]:
                self.problem(f"{label}: sus adjuntos no son los que se depositaron")
            certificate = item.get("certificate")
            if certificate:
                data = self.read(certificate["path"])
                registered = certificates.get(certificate["code"])
                if data is not None and (
                    registered is None
                    or registered[0] != item["id"]
                    or hashlib.sha256(data).hexdigest() != registered[1]
                ):
                    self.problem(f"{label}: la constancia no es la registrada con su código")

    def _content(self, label: str, item: dict[str, Any], deposit: dict[str, Any]) -> None:
        """The content file, the text file and the manifest's own words, against the deposit
        entry: what a reader sees must be what was notified."""
        raw = self.read(item["content"])
        if raw is None:
            return
        content = _canonical(raw.decode("utf-8", errors="replace"))
        if content is None or chain.content_sha256(content) != deposit["content_sha256"]:
            self.problem(f"{label}: su contenido no es el que se depositó")
            return
        text_path = item["content"].rsplit("/", 1)[0] + "/texto.md"
        text = self.read(text_path)
        if text is not None and text.decode("utf-8", errors="replace") != content["body"]:
            self.problem(f"{label}: el texto (texto.md) no es el que se depositó")
        claims = {
            "public_id": content["id"],
            "procedure": content["procedure"],
            "subject": content["subject"],
        }
        recorded_at = deposit["data"].get("deposited_at")
        if recorded_at is not None:
            claims["deposited_at"] = recorded_at
        for key, value in claims.items():
            if item.get(key) != value:
                self.problem(f"{label}: el manifiesto dice otra cosa que la evidencia ({key})")


def check(path: Path, *, keys: list[Path] | None = None, published: Path | None = None) -> Checker:
    trusted = {}
    for key_path in keys or []:
        public = _load_key(key_path.read_bytes())
        trusted[_key_id(public)] = public
    with zipfile.ZipFile(path) as archive:
        checker = Checker(archive, trusted)
        checker.check(json.loads(published.read_text(encoding="utf-8")) if published else None)
    return checker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evidence.offline",
        description="Comprueba sin conexión una exportación de evidencia del Buzón.",
    )
    parser.add_argument("zip", type=Path, help="el archivo ZIP exportado")
    parser.add_argument(
        "--clave", type=Path, action="append", help="clave pública de la entidad (.pub)"
    )
    parser.add_argument(
        "--punto-de-control", type=Path, help="un punto de control publicado (JSON)"
    )
    args = parser.parse_args(argv)
    try:
        checker = check(args.zip, keys=args.clave, published=args.punto_de_control)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        print(f"No se pudo leer la exportación: {exc}", file=sys.stderr)
        return 2
    manifest = checker.manifest
    print(
        f"Exportación de {manifest.get('agency')} para {manifest.get('holder', {}).get('name')}, "
        f"generada el {manifest.get('generated_at')}"
    )
    print(
        f"{len(manifest.get('notifications', []))} notificaciones, "
        f"{len(manifest.get('entries', []))} registros de evidencia, "
        f"{len(manifest.get('files', {}))} archivos, "
        f"{len(manifest.get('checkpoints', []))} puntos de control"
    )
    for note in checker.notes:
        print(f"Nota: {note}")
    if checker.problems:
        print("ALTERADA O INCOMPLETA:")
        for problem in checker.problems:
            print(f"  - {problem}")
        return 1
    if not args.clave:
        print(
            "COHERENTE, pero comprobada con las claves que trae el propio ZIP: para saber que "
            "la firmó la entidad, repita la comprobación con --clave y su clave pública."
        )
        return UNTRUSTED_KEY
    print("ÍNTEGRA: todos los archivos y registros coinciden con la evidencia firmada.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
