"""A person's evidence export, and the offline check a court or a lawyer would run on it."""

from __future__ import annotations

import json
import zipfile
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence import chain, keys, offline
from evidence.export import write_export
from evidence.models import Certificate
from evidence.tests.zips import export, rewrite, trusted_key
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_whole_mailbox_exports_and_checks_out_offline(mailbox, tmp_path):
    path = export(mailbox, tmp_path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        readme = archive.read("LEEME.txt").decode()
    assert len(manifest["notifications"]) == 2
    assert sum(1 for n in names if "/adjuntos/" in n) == 2
    assert sum(1 for n in names if "/constancia-" in n) == 2
    kinds = [json.loads(e["canonical"])["kind"] for e in manifest["entries"]]
    for kind in ("notification_deposited", "notification_opened", "attachment_downloaded",
                 "certificate_issued", "procedure_registered"):  # fmt: skip
        assert kind in kinds
    assert all(e["inclusion"] is not None for e in manifest["entries"])
    assert "python -m evidence.offline buzon.zip" in readme
    assert Certificate.objects.count() == 2  # each export issues its certificates

    checker = offline.check(path, keys=[trusted_key(tmp_path)])
    assert checker.problems == []
    assert checker.notes == []


def test_one_case_exports_only_that_procedure(mailbox, tmp_path):
    other = factories.register(doc_number="002223334")
    factories.deposit(other, subject="De otra persona")
    path = export(mailbox, tmp_path, procedure=mailbox.procedure)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    procedures = {json.loads(e["canonical"])["procedure"] for e in manifest["entries"]}
    assert procedures == {mailbox.procedure.pk}
    assert {n["procedure"] for n in manifest["notifications"]} == {mailbox.procedure.number}
    assert offline.check(path).problems == []


def test_without_a_key_the_check_says_whose_keys_it_used(mailbox, tmp_path):
    checker = offline.check(export(mailbox, tmp_path))
    assert checker.problems == []
    assert "se usaron las claves públicas incluidas en el ZIP" in checker.notes[0]
    assert keys.current_key().key_id in checker.notes[0]


def test_an_altered_attachment_is_caught_even_with_a_fixed_manifest(mailbox, tmp_path):
    path = export(mailbox, tmp_path)

    def change(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        name = next(n for n in files if "/adjuntos/" in n)
        files[name] = files[name].replace(b"%%EOF", b"%%EOF\n% otra cosa")

    rewrite(path, change)
    problems = offline.check(path, keys=[trusted_key(tmp_path)]).problems
    assert problems[0] == (
        "la firma del manifiesto no es válida: el manifiesto se modificó después de que la "
        "entidad lo firmara"
    )
    assert problems[1].endswith("sus adjuntos no son los que se depositaron")

    # Even a manifest signed again with the agency's key (the agency's own system exporting
    # an edited file) does not pass: the deposit entry names the attachment's hash.
    path = export(mailbox, tmp_path)
    rewrite(path, change, resign=True)
    problems = offline.check(path, keys=[trusted_key(tmp_path)]).problems
    assert len(problems) == 1
    assert problems[0].endswith("sus adjuntos no son los que se depositaron")


def test_altered_content_is_caught(mailbox, tmp_path):
    path = export(mailbox, tmp_path)

    def change(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        name = next(n for n in files if n.endswith("contenido.json"))
        files[name] = files[name].replace("Aprobación".encode(), "Denegación".encode())

    rewrite(path, change, resign=True)
    problems = offline.check(path, keys=[trusted_key(tmp_path)]).problems
    assert len(problems) == 1
    assert "su contenido no es el que se depositó" in problems[0]


def test_an_altered_entry_fails_its_inclusion_proof(mailbox, tmp_path):
    path = export(mailbox, tmp_path)

    def change(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        for entry in manifest["entries"]:
            if '"notification_opened"' in entry["canonical"]:
                entry["canonical"] = entry["canonical"].replace("203.0.113.7", "198.51.100.9")
                entry["hash"] = chain.sha256_hex(entry["canonical"])

    rewrite(path, change, resign=True)
    problems = offline.check(path, keys=[trusted_key(tmp_path)]).problems
    assert len(problems) == 1
    assert "la prueba de inclusión no lleva a la raíz firmada" in problems[0]


def test_a_checkpoint_signed_by_someone_else_is_refused(mailbox, tmp_path):
    path = export(mailbox, tmp_path)
    forger = Ed25519PrivateKey.generate()

    def change(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        for checkpoint in manifest["checkpoints"]:
            body = json.loads(checkpoint["statement"])
            body["key"] = keys.key_id_of(forger.public_key())
            checkpoint["statement"] = chain.dumps(body)
            checkpoint["signature"] = forger.sign(checkpoint["statement"].encode()).hex()

    rewrite(path, change, resign=True)
    problems = offline.check(path, keys=[trusted_key(tmp_path)]).problems
    assert any("firmado con una clave que no es de confianza" in p for p in problems)


def test_a_published_checkpoint_is_compared(mailbox, tmp_path):
    from evidence.models import Checkpoint

    path = export(mailbox, tmp_path)
    latest = Checkpoint.objects.order_by("-number").first()
    assert latest is not None
    published = tmp_path / "publicado.json"
    published.write_text(json.dumps({"number": latest.number, "statement": latest.statement}))
    checker = offline.check(path, keys=[trusted_key(tmp_path)], published=published)
    assert checker.problems == []
    assert f"el punto de control n.° {latest.number} coincide con el publicado" in checker.notes

    body = json.loads(latest.statement)
    body["entries"] += 1
    published.write_text(json.dumps({"number": latest.number, "statement": chain.dumps(body)}))
    problems = offline.check(path, keys=[trusted_key(tmp_path)], published=published).problems
    assert problems == [f"el punto de control n.° {latest.number} del ZIP no es el publicado"]


def test_the_command_line_reports_in_spanish(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)
    assert offline.main([str(path), "--clave", str(trusted_key(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "2 notificaciones" in out
    assert "ÍNTEGRA" in out
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("extra.pdf", b"%PDF-1.4")
    assert offline.main([str(path)]) == 1
    assert "extra.pdf: archivo añadido, no figura en el manifiesto" in capsys.readouterr().out


def test_opened_only_leaves_out_what_was_not_opened(mailbox, tmp_path):
    path = tmp_path / "abiertas.zip"
    person = mailbox.procedure.person
    with path.open("wb") as out:
        summary = write_export(out, person=person, requested_by=person.user, opened_only=True)
    assert summary.notifications == 1  # the fixture opened one of its two notifications
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        texts = [archive.read(n).decode() for n in archive.namelist() if n.endswith("texto.md")]
    assert [n["subject"] for n in manifest["notifications"]] == ["Aprobación de su CPP"]
    assert len(texts) == 1
    assert offline.check(path).problems == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (  # a repeated key: a JSON reader keeps one, a person may read the other
            lambda files, manifest: files.update(
                {
                    name: files[name].replace(b'{"appeals"', b'{"body":"FORJADO","appeals"')
                    for name in files
                    if name.endswith("contenido.json")
                }
            ),
            "su contenido no es el que se depositó",
        ),
        (
            lambda files, manifest: files.update(
                {name: b"Otro texto." for name in files if name.endswith("texto.md")}
            ),
            "el texto (texto.md) no es el que se depositó",
        ),
        (
            lambda files, manifest: manifest["notifications"][0].update(subject="Otro asunto"),
            "el manifiesto dice otra cosa que la evidencia (subject)",
        ),
    ],
)
def test_what_a_reader_sees_must_be_what_was_deposited(mailbox, tmp_path, change, message):
    path = export(mailbox, tmp_path)
    rewrite(path, change, resign=True)
    problems = offline.check(path, keys=[trusted_key(tmp_path)]).problems
    assert any(message in p for p in problems), problems


def test_without_the_agencys_key_the_answer_is_not_integra(mailbox, tmp_path, capsys):
    path = export(mailbox, tmp_path)
    assert offline.main([str(path)]) == offline.UNTRUSTED_KEY
    out = capsys.readouterr().out
    assert "COHERENTE, pero comprobada con las claves que trae el propio ZIP" in out
    assert "ÍNTEGRA" not in out
