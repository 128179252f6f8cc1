"""The agency's Ed25519 keys for signing checkpoints.

The keyring is a directory (settings.BUZON_EVIDENCE_KEY_DIR, outside git):

    ed25519-<key id>.key   the private key, PKCS#8 PEM, mode 0600
    ed25519-<key id>.pub   the public key, SubjectPublicKeyInfo PEM
    current                the key id that signs new checkpoints

The key id is the first 16 hex digits of the SHA-256 of the raw 32-byte public key. Rotating
writes a new key and points `current` at it; old public keys stay, so old checkpoints still
verify (an old private key may be removed once retired). Verification trusts only the public
keys in this directory, never one stored in the database, so whoever can write to the database
cannot forge a checkpoint. Publish the .pub files: anyone can then check a checkpoint.

In development and tests the first key is generated on first use; in production a missing key
stops the process (create one with `manage.py rotate_evidence_key` on the signing host).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private: Ed25519PrivateKey

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _dir() -> Path:
    return Path(settings.BUZON_EVIDENCE_KEY_DIR)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def generate() -> SigningKey:
    """A new key in the keyring, made current. Old keys are kept."""
    folder = _dir()
    folder.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    key_id = key_id_of(private.public_key())
    _write_new(
        folder / f"ed25519-{key_id}.key",
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        0o600,
    )
    _write_new(
        folder / f"ed25519-{key_id}.pub",
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        0o644,
    )
    current = folder / "current"
    staging = folder / f".current-{key_id}"
    staging.write_text(key_id + "\n", encoding="utf-8")
    staging.replace(current)  # atomic: readers see the old id or the new one
    return SigningKey(key_id, private)


def current_key() -> SigningKey:
    folder = _dir()
    current = folder / "current"
    if not current.exists():
        if settings.PRODUCTION:
            raise ImproperlyConfigured(
                f"No evidence signing key in {folder}: run `manage.py rotate_evidence_key` "
                "on the signing host, or set BUZON_EVIDENCE_KEY_DIR."
            )
        log.warning("generating a development evidence signing key in %s", folder)
        try:
            return generate()
        except FileExistsError:  # another process won the race; use its key
            pass
    key_id = current.read_text(encoding="utf-8").strip()
    pem = (folder / f"ed25519-{key_id}.key").read_bytes()
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{folder}/ed25519-{key_id}.key is not an Ed25519 key")
    return SigningKey(key_id, private)


def trusted_public_keys(folder: Path | None = None) -> dict[str, Ed25519PublicKey]:
    """Every public key in the keyring (or in `folder`), by key id."""
    keys: dict[str, Ed25519PublicKey] = {}
    folder = folder or _dir()
    if not folder.is_dir():
        return keys
    for path in sorted(folder.glob("ed25519-*.pub")):
        public = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(public, Ed25519PublicKey):
            keys[key_id_of(public)] = public
    return keys


def public_key_pem(key_id: str) -> str:
    return (_dir() / f"ed25519-{key_id}.pub").read_text(encoding="ascii")


def signature_valid(public: Ed25519PublicKey, signature_hex: str, message: bytes) -> bool:
    try:
        public.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
