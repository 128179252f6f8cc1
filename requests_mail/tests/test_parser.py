"""The credential-request mail parser: real-looking messages, duplicates, and fuzzing.

Every message in messages/ is written by hand after the seed: "Solicitud de credenciales para
acceder a mi buzón electrónico", with the personal data below it.
"""

from __future__ import annotations

import hashlib
import quopri
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from requests_mail import fields
from requests_mail.parser import (
    EMPTY_BODY,
    FIELDS_FAILED,
    LOOSE_WORDING,
    MAX_TEXT_CHARS,
    NO_ORIGINAL_SENDER,
    NO_SENDER,
    NOT_A_REQUEST,
    TEXT_TRUNCATED,
    TOO_MANY_PARTS,
    UNPARSEABLE,
    Attachment,
    ParsedRequest,
    parse,
)

MESSAGES = Path(__file__).parent / "messages"
SUBJECT = "Solicitud de credenciales para acceder a mi buzón electrónico"
JPEG_SHA256 = "618b93b51c642252828a7f3af21fcf2a35557758a429e99e71825c7836e5da92"
PDF_SHA256 = "554f5147984d75fe7e43c6f15d08e3d52097907a122299c06613e84b3b4c8749"


# Samples made in code rather than kept as binary files.
GENERATED = {
    # Bytes that are no email at all: controls, a BOM, every byte value.
    "14_basura.eml": bytes([0, 1, 0xFE, 0xFF])
    + bytes(range(256)) * 3
    + bytes((i * 37) % 256 for i in range(54)),
}


def sample(name: str) -> bytes:
    if name in GENERATED:
        return GENERATED[name]
    return (MESSAGES / name).read_bytes()


def person(**values: Any) -> dict[str, Any]:
    """The fields of a complete, well-formed request; pass what differs."""
    return {"is_credential_request": True, "needs_review": False, "reasons": (), **values}


EXPECTED: dict[str, dict[str, Any]] = {
    "01_simple.eml": person(
        message_id="<CAF7x2kP3n9QdWm+Lr8vK1@mail.gmail.com>",
        sender="mariafer.gonzalez88@gmail.com",
        subject=SUBJECT,
        given_names="María Fernanda",
        surnames="González Pérez",
        document_type="CPP",
        document_number="001234567",
        document_number_raw="CPP 001234567",
        birth_date=date(1991, 7, 14),
        nationality="Venezolana",
        phone="987 654 321",
        attachments=(),
    ),
    "02_sin_tildes.eml": person(
        sender="joseluis_ramirez@outlook.com",
        subject="solicitud de credenciales para acceder a mi buzon electronico",
        given_names="jose luis",
        surnames="ramirez castillo",
        document_type="CE",
        document_number="000456789",
        document_number_raw="000456789",
        birth_date=date(1988, 3, 5),
        nationality="colombiana",
        phone="912345678",
    ),
    "03_mayusculas.eml": person(
        sender="carlos.mendoza.silva@yahoo.es",
        subject="SOLICITUD DE CREDENCIALES PARA ACCEDER A MI BUZÓN ELECTRÓNICO",
        given_names="CARLOS ALBERTO",
        surnames="MENDOZA SILVA",
        document_type="DNI",
        document_number="45678912",
        document_number_raw="45678912",
        birth_date=date(1985, 11, 23),
        nationality="PERUANA",
        phone="998877665",
    ),
    "04_solo_html.eml": person(
        sender="yulimar.perez.r@hotmail.com",
        subject=SUBJECT,
        given_names="Yulimar Andreína",
        surnames="Pérez Rodríguez",
        document_type="CE",
        document_number="000987654",
        document_number_raw="CE N° 000987654",
        birth_date=date(1990, 3, 5),
        nationality="Venezolana",
        phone="+51 955 123 456",
    ),
    # Forwarded inline by the information mailbox: the sender is the person, and the phone in
    # the agency's signature, (01) 200-1000, is not taken for theirs.
    "05_reenviado_por_informes.eml": person(
        sender="luismi.herrera@hotmail.com",
        subject=f"Fwd: {SUBJECT}",
        given_names="Luis Miguel",
        surnames="Herrera Blanco",
        document_type="CPP",
        document_number="000543210",
        document_number_raw="000543210",
        birth_date=date(1984, 10, 9),
        nationality="Venezolana",
        phone="951 222 333",
    ),
    # Forwarded as an attachment (message/rfc822), with a photo inside the original.
    "06_reenviado_como_adjunto.eml": person(
        sender="wilmer.castro.82@gmail.com",
        subject=f"RV: {SUBJECT}",
        given_names="Wilmer Andrés",
        surnames="Castro Linares",
        document_type="CE",
        document_number="000112233",
        document_number_raw="000112233",
        birth_date=date(1982, 6, 17),
        nationality="venezolano",
        phone="977 000 111",
        attachments=(Attachment("carne_extranjeria.jpg", "image/jpeg", 790, JPEG_SHA256),),
    ),
    # A reply: the document is new, the rest is in her first message quoted at the bottom;
    # the agency's answer quoted in between (with its phone number) is skipped.
    "07_respuesta_con_historial.eml": person(
        sender="karla.suarez.v@yahoo.com",
        subject=f"RE: {SUBJECT}",
        given_names="Karla Valentina",
        surnames="Suárez Vivas",
        document_type="CE",
        document_number="000765432",
        document_number_raw="CE 000765432",
        birth_date=date(1993, 2, 28),
        nationality="venezolana",
        phone="944 555 666",
    ),
    "08_windows1252.eml": person(
        sender="jamunoz@terra.com.pe",
        subject=SUBJECT,
        given_names="José Ángel",
        surnames="Muñoz Peña",
        document_type="CPP",
        document_number="001122334",
        document_number_raw="001122334",
        birth_date=date(1979, 9, 2),
        nationality="Venezolana",
        phone="01 4567890",
    ),
    # Base64 body, every label on one line.
    "09_base64.eml": person(
        sender="anasofia.diaz@icloud.com",
        subject=SUBJECT,
        given_names="Ana Sofía",
        surnames="Díaz Ortega",
        document_type="PTP",
        document_number="000345678",
        document_number_raw="000345678",
        birth_date=date(1995, 8, 12),
        nationality="venezolana",
        phone="966 777 888",
    ),
    "10_adjuntos_jpg_pdf.eml": person(
        sender="rosaelena.quintero@gmail.com",
        given_names="Rosa Elena",
        surnames="Quintero de Almeida",
        document_type="CPP",
        document_number="000778899",
        document_number_raw="CPP 000778899",
        birth_date=date(1976, 12, 1),
        nationality="Venezolana",
        phone="933 444 555",
        attachments=(
            Attachment("CPP_frente.jpg", "image/jpeg", 790, JPEG_SHA256),
            Attachment("constancia_tramite.pdf", "application/pdf", 142, PDF_SHA256),
        ),
    ),
    "11_etiquetas_desordenadas.eml": person(
        sender="jhon.cedeno.v@outlook.es",
        subject="Solicitud de credenciales para acceder a mi buzon electronico",
        given_names="Jhon Steven",
        surnames="Cedeño Villacís",
        document_type="PAS",
        document_number="A1234567",
        document_number_raw="Pasaporte N° A1234567",
        birth_date=date(2000, 1, 30),
        nationality="Ecuatoriana",
        phone="+51 987 111 222",
    ),
    "12_sin_numero_de_documento.eml": person(
        sender="ppurdaneta@gmail.com",
        given_names="Pedro Pablo",
        surnames="Urdaneta Rincón",
        document_type="",
        document_number="",
        document_number_raw="",
        birth_date=date(1969, 9, 3),
        nationality="Venezolana",
        phone="",
        needs_review=True,
        reasons=(fields.NO_DOCUMENT,),
    ),
    "13_no_es_solicitud.eml": person(
        sender="gaby.sosa.m@gmail.com",
        subject="Consulta sobre el estado de mi trámite de CPP",
        is_credential_request=False,
        needs_review=True,
        reasons=(NOT_A_REQUEST,),
    ),
    "14_basura.eml": {
        "message_id": hashlib.sha256(sample("14_basura.eml")).hexdigest(),
        "sender": "",
        "subject": "",
        "is_credential_request": False,
        "needs_review": True,
        "reasons": (NO_SENDER, NOT_A_REQUEST),
    },
    # Declared UTF-8, written in Latin-1, with an unencoded 8-bit subject.
    "15_charset_roto.eml": person(
        sender="marthaospina@une.net.co",
        subject=SUBJECT,
        given_names="Martha Lucía",
        surnames="Ospina Gutiérrez",
        document_type="CE",
        document_number="000223344",
        document_number_raw="CE 000223344",
        birth_date=date(1972, 4, 9),
        nationality="colombiana",
        phone="984 321 000",
    ),
    "16_cuerpo_vacio_con_foto.eml": person(
        sender="richard.colmenares@gmail.com",
        text="",
        attachments=(Attachment("IMG_20250319_074312.jpg", "image/jpeg", 790, JPEG_SHA256),),
        needs_review=True,
        reasons=(EMPTY_BODY, fields.NO_GIVEN_NAMES, fields.NO_SURNAMES, fields.NO_DOCUMENT),
    ),
    # Gmail reply: the data is quoted with ">", the document is in the new text.
    "17_respuesta_gmail_citada.eml": person(
        sender="dayana.mora.p@gmail.com",
        subject=f"Re: {SUBJECT}",
        given_names="Dayana Carolina",
        surnames="Mora Paredes",
        document_type="CPP",
        document_number="000667788",
        document_number_raw="000667788",
        birth_date=date(1997, 4, 15),
        nationality="venezolana",
        phone="922 333 444",
    ),
}


def check_invariants(result: ParsedRequest) -> None:
    """What every result must satisfy, whatever the input: the message is never dropped."""
    assert isinstance(result, ParsedRequest)
    assert isinstance(result.message_id, str)
    assert result.message_id
    assert re.fullmatch(r"[0-9a-f]{64}", result.fingerprint)
    assert result.needs_review == bool(result.reasons)
    assert all(isinstance(reason, str) and reason for reason in result.reasons)
    assert result.is_credential_request or NOT_A_REQUEST in result.reasons
    assert len(result.text) <= MAX_TEXT_CHARS
    assert all(isinstance(a, Attachment) for a in result.attachments)
    assert result.birth_date is None or isinstance(result.birth_date, date)
    # The catch-alls are a last resort; ordinary garbage must not need them.
    assert UNPARSEABLE not in result.reasons
    assert FIELDS_FAILED not in result.reasons


# -- The samples ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_fields_are_extracted_exactly(name: str) -> None:
    result = parse(sample(name))

    assert {key: getattr(result, key) for key in EXPECTED[name]} == EXPECTED[name]
    check_invariants(result)


def test_every_sample_file_has_expectations() -> None:
    assert sorted([*(p.name for p in MESSAGES.glob("*.eml")), *GENERATED]) == sorted(EXPECTED)


def test_html_only_mail_becomes_readable_text_without_hidden_parts() -> None:
    text = parse(sample("04_solo_html.eml")).text

    assert "Nombres Yulimar Andreína" in text
    assert "<" not in text
    assert "margin" not in text  # the <style> block
    assert "NO ES ESTO" not in text  # an Outlook conditional comment


def test_forwarded_attachment_text_is_kept_for_the_officer() -> None:
    text = parse(sample("06_reenviado_como_adjunto.eml")).text

    assert "Reenvío la solicitud adjunta" in text
    assert "From: wilmer.castro.82@gmail.com" in text
    assert "Carné de extranjería: 000112233" in text


def test_message_without_message_id_is_named_by_its_bytes() -> None:
    raw = re.sub(rb"(?m)^Message-ID:.*\n", b"", sample("01_simple.eml"))

    result = parse(raw)

    assert result.message_id == hashlib.sha256(raw).hexdigest()
    assert result.given_names == "María Fernanda"


# -- Senders ----------------------------------------------------------------------------------


def message(body: str, *, headers: str = "", subject: str = SUBJECT) -> bytes:
    head = f"From: Ana Ruiz <ana.ruiz@example.com>\nSubject: {subject}\n{headers}"
    return (head + "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()


DATA = "Nombres: Ana\nApellidos: Ruiz Soto\nCPP: 001234567\n"


def test_forward_by_the_info_mailbox_without_the_original_sender_needs_review() -> None:
    raw = message(DATA).replace(b"ana.ruiz@example.com", b"informes@migraciones.gob.pe")

    result = parse(raw)

    assert result.sender == ""
    assert result.reasons == (NO_ORIGINAL_SENDER,)
    assert result.document_number == "001234567"  # the data is still read


def test_forward_by_the_info_mailbox_answers_reply_to() -> None:
    raw = message(DATA, headers="Reply-To: <Ana.Ruiz@Example.com>\n").replace(
        b"Ana Ruiz <ana.ruiz@example.com>", b"Informes <INFORMES@migraciones.gob.pe>"
    )

    assert parse(raw).sender == "ana.ruiz@example.com"


def test_other_info_mailboxes_can_be_named() -> None:
    raw = message("---------- Forwarded message ---------\nFrom: Ana <ana@example.org>\n\n" + DATA)

    result = parse(raw, info_mailboxes={"ana.ruiz@example.com"})

    assert result.sender == "ana@example.org"


def test_a_message_without_from_falls_back_to_reply_to() -> None:
    raw = message(DATA, headers="Reply-To: ana@example.org\n").replace(
        b"From: Ana Ruiz <ana.ruiz@example.com>\n", b""
    )

    assert parse(raw).sender == "ana@example.org"


# -- Wording ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        SUBJECT,
        "RV: RE: Solicitud de credenciales para acceder a mi buzón electrónico",
        "Fwd: SOLICITUD DE CREDENCIALES PARA ACCEDER A MI BUZÓN ELECTRÓNICO",
        "re:   solicitud   de credenciales  para acceder a mi buzon electronico.",
        "Solicitud de credenciales de acceso a mi casilla electrónica",
    ],
)
def test_the_seed_subject_is_recognised_however_it_is_written(subject: str) -> None:
    result = parse(message(DATA, subject=subject))

    assert result.is_credential_request
    assert result.reasons == ()


def test_the_seed_wording_in_the_body_is_enough() -> None:
    result = parse(message(f"{SUBJECT.upper()}\n{DATA}", subject="Hola"))

    assert result.is_credential_request
    assert result.reasons == ()


def test_other_ways_of_asking_for_credentials_are_flagged() -> None:
    result = parse(message(DATA, subject="Necesito mis credenciales"))

    assert result.is_credential_request
    assert result.reasons == (LOOSE_WORDING,)


# -- Fields -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("14/07/1991", date(1991, 7, 14)),
        ("5-3-1988", date(1988, 3, 5)),
        ("02.09.1979", date(1979, 9, 2)),
        ("1990-03-05", date(1990, 3, 5)),
        ("5 de marzo de 1990", date(1990, 3, 5)),
        ("3 de Setiembre del 1969", date(1969, 9, 3)),
        ("12 AGO 1995", date(1995, 8, 12)),
        ("31/02/1990", None),
        ("01/01/2999", None),
        ("marzo de 1990", None),
    ],
)
def test_birth_dates(value: str, expected: date | None) -> None:
    assert fields.parse_birth_date(value) == expected


def extract(text: str) -> fields.Fields:
    return fields.extract(text.splitlines())


@pytest.mark.parametrize(
    ("text", "doc_type", "number", "raw"),
    [
        ("DNI/CE/CPP: CPP 001234567", "CPP", "001234567", "CPP 001234567"),
        ("DNI / CE / CPP: cpp: 1234567", "CPP", "001234567", "1234567"),
        ("Documento: C.E. N° 000123456", "CE", "000123456", "C.E. N° 000123456"),
        ("N° de DNI: 45678912", "DNI", "45678912", "45678912"),
        ("Documento de identidad: 45.678.912 (DNI)", "DNI", "45678912", "45.678.912 (DNI)"),
        ("Tipo de documento: PTP\nNúmero de documento: 000 345 678", "PTP", "000345678", ""),
        ("Carné de Extranjería N°: 000112233", "CE", "000112233", "000112233"),
        ("DNI/CE/CPP: CE001234567", "CE", "001234567", "CE001234567"),
        ("Pasaporte: 138765432", "PAS", "138765432", "138765432"),
        ("Hola, mi CPP es 001234567, gracias", "CPP", "001234567", "CPP es 001234567"),
    ],
)
def test_document_types_and_numbers(text: str, doc_type: str, number: str, raw: str) -> None:
    found = extract(text)

    assert (found.document_type, found.document_number) == (doc_type, number)
    if raw:
        assert found.document_number_raw == raw


def test_a_number_without_a_type_needs_review() -> None:
    found = extract("DNI/CE/CPP: 001234567")

    assert (found.document_type, found.document_number) == ("", "")
    assert found.document_number_raw == "001234567"
    assert fields.NO_DOCUMENT_TYPE in found.reasons


def test_an_invalid_number_keeps_the_raw_text_and_needs_review() -> None:
    found = extract("DNI: 1234 5678 9")  # nine characters: the check digit is wrong

    assert (found.document_type, found.document_number) == ("DNI", "")
    assert found.document_number_raw == "1234 5678 9"
    assert fields.invalid_document("DNI") in found.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Nombres: Ana Lucía\nApellidos: de la Cruz Soto",
        "NOMBRES : Ana Lucía\nAPELLIDOS : de la Cruz Soto",
        "* **Nombres:** Ana Lucía\n* **Apellidos:** de la Cruz Soto",
        "1. Nombres - Ana Lucía\n2. Apellido paterno: de la Cruz\n3. Apellido materno: Soto",
        "Nombres:\nAna Lucía\nApellidos:\nde la Cruz Soto",
        "nombres: Ana Lucía; apellidos: de la Cruz Soto",
        "Primer apellido: de la Cruz\nSegundo apellido: Soto\nNombre: Ana Lucía",
    ],
)
def test_names_in_any_layout(text: str) -> None:
    found = extract(text)

    assert (found.given_names, found.surnames) == ("Ana Lucía", "de la Cruz Soto")


def test_a_full_name_in_one_field_is_left_for_an_officer() -> None:
    found = extract("Nombres y apellidos: Ana Lucía de la Cruz Soto\nCPP: 001234567")

    assert (found.given_names, found.surnames) == ("", "")
    assert fields.FULL_NAME_ONLY in found.reasons


def test_labels_in_prose_are_not_taken_for_data() -> None:
    found = extract(
        "Nombre de usuario no lo recuerdo\nDocumento adjunto en PDF\nTeléfono no tengo\n"
        "Fecha de nacimiento no la recuerdo"
    )

    assert (found.given_names, found.document_number_raw, found.phone) == ("", "", "")
    assert found.birth_date is None
    assert fields.BAD_BIRTH_DATE in found.reasons


# -- Limits ---------------------------------------------------------------------------------------


def test_an_enormous_body_is_capped_but_read() -> None:
    raw = message(DATA + "bla " * 2_000_000)

    result = parse(raw)

    assert result.reasons == (TEXT_TRUNCATED,)
    assert len(result.text) == MAX_TEXT_CHARS
    assert (result.given_names, result.document_number) == ("Ana", "001234567")


@pytest.mark.parametrize(
    "raw",
    [
        # html.parser is quadratic on these in Python 3.11 (minutes for a megabyte).
        message("<!--" * 250_000).replace(b"text/plain", b"text/html"),
        message("<a " * 330_000).replace(b"text/plain", b"text/html"),
        message('<a x="' * 160_000).replace(b"text/plain", b"text/html"),
        # The email package is quadratic on long headers of quotes or backslashes.
        b"From: " + b'"' * 20_000 + b"\nSubject: " + b"\\" * 20_000 + b"\n\nhola",
        # Many parts, each with a hostile header.
        b"Content-Type: multipart/mixed; boundary=zz\n\n"
        + (b"--zz\nContent-Type: " + b'"' * 5_000 + b"\n\nx\n") * 2_000,
        # Deep nesting makes the email package recurse past the limit.
        b"Content-Type: multipart/mixed; boundary=b0\n\n"
        + b"".join(b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i - 1, i)
                   for i in range(1, 3_000)),
    ],
    ids=["comments", "open-tags", "open-quotes", "long-headers", "hostile-parts", "deep"],
)  # fmt: skip
def test_hostile_input_reaches_the_slow_parsers_only_in_bounded_shapes(raw: bytes) -> None:
    """Each of these takes the standard library minutes unbounded, and a second or less the
    way parse() hands it over. What is checked is that way (not the clock, which a busy
    machine moves): the email package never sees a header longer than MAX_HEADER_BYTES nor
    more than MAX_BOUNDARY_LINES part boundaries, and html.parser sees what is left of at most
    MAX_HTML_CHARS: bare tags and text (no comment, declaration or attribute to scan)."""
    from email.parser import BytesParser
    from unittest import mock

    from requests_mail import html_text
    from requests_mail.parser import MAX_BOUNDARY_LINES, MAX_HEADER_BYTES

    parsed: list[bytes] = []
    fed: list[str] = []
    real_parse, real_feed = BytesParser.parsebytes, html_text._TextExtractor.feed

    def parsebytes(self: Any, text: bytes, headersonly: bool = False) -> Any:
        parsed.append(text)
        return real_parse(self, text, headersonly)

    def feed(self: Any, data: str) -> None:
        fed.append(data)
        real_feed(self, data)

    with (
        mock.patch.object(BytesParser, "parsebytes", parsebytes),
        mock.patch.object(html_text._TextExtractor, "feed", feed),
    ):
        result = parse(raw)

    check_invariants(result)
    assert parsed  # the email package was used, on the bounded message
    for data in parsed:
        lines = data.splitlines()
        assert sum(line.startswith(b"--") for line in lines) <= MAX_BOUNDARY_LINES
        in_headers = True  # the message's headers, then each part's after its boundary
        for line in lines:
            if line.startswith(b"--"):
                in_headers = True
            elif not line:
                in_headers = False
            elif in_headers:
                assert len(line) <= MAX_HEADER_BYTES
    for html in fed:
        assert len(html) <= 4 * html_text.MAX_HTML_CHARS  # a stray "<" is fed as "&lt;"
        assert re.fullmatch(r"(?:[^<]|</?[a-z][a-z0-9:-]{0,30}>)*", html)
    if b"text/html" in raw:
        assert fed  # the HTML cases did go through html.parser


def test_a_long_body_line_is_not_cut_like_a_header() -> None:
    line = "Estimados: " + "solicito mis credenciales por favor " * 40 + "Nombres: Ana Ruiz"

    assert parse(message(line + "\n" + DATA)).text.startswith(line)


def test_too_many_parts_are_cut_and_flagged() -> None:
    raw = b"From: a@example.com\nContent-Type: multipart/mixed; boundary=zz\n\n" + (
        b"--zz\nContent-Type: text/plain\n\nx\n" * 1_000
    )

    assert TOO_MANY_PARTS in parse(raw).reasons


# -- Duplicates ---------------------------------------------------------------------------------


def test_the_same_message_twice_has_one_fingerprint() -> None:
    assert parse(sample("01_simple.eml")) == parse(sample("01_simple.eml"))


def test_transport_headers_do_not_change_the_fingerprint() -> None:
    raw = sample("01_simple.eml")
    relayed = (
        b"Delivered-To: solicitudes@buzon.migraciones.gob.pe\n"
        b"Received: from mx1.migraciones.gob.pe (10.20.1.5) by buzon.migraciones.gob.pe\n"
        b"\twith ESMTP id 7Hc2; Mon, 3 Mar 2025 09:14:27 -0500\n"
        b"X-Spam-Score: 0.4\n" + raw
    )

    assert parse(relayed).fingerprint == parse(raw).fingerprint
    assert parse(relayed).message_id == parse(raw).message_id


def test_a_relay_that_reencodes_the_body_does_not_change_the_fingerprint() -> None:
    raw = sample("01_simple.eml")
    head, body = raw.split(b"\n\n", 1)
    reencoded = (
        head.replace(
            b"Content-Transfer-Encoding: 8bit", b"Content-Transfer-Encoding: quoted-printable"
        )
        + b"\n\n"
        + quopri.encodestring(body)
    )

    assert reencoded != raw
    assert parse(reencoded).fingerprint == parse(raw).fingerprint


def test_the_same_request_sent_twice_is_one_request() -> None:
    first = sample("01_simple.eml")
    again = first.replace(b"CAF7x2kP3n9QdWm+Lr8vK1", b"CAF7x2kP3n9QdWm+Zz9wQ2").replace(
        b"09:14:22", b"09:20:05"
    )

    assert parse(again).message_id != parse(first).message_id
    assert parse(again).fingerprint == parse(first).fingerprint


def test_the_same_request_forwarded_twice_by_the_info_mailbox_is_one_request() -> None:
    first = sample("05_reenviado_por_informes.eml")
    again = first.replace(
        b"Se reenv=C3=ADa para su atenci=C3=B3n.", b"Por favor atender, es la segunda vez."
    ).replace(b"CAGnx8mQ0fwd7Yr2", b"CAGnx8mQ0fwdSECOND")

    assert parse(again).fingerprint == parse(first).fingerprint


def test_different_people_have_different_fingerprints() -> None:
    first = sample("01_simple.eml")
    other_number = first.replace(b"CPP 001234567", b"CPP 001234568")
    other_sender = first.replace(b"mariafer.gonzalez88@", b"mariafer.gonzalez89@")

    fingerprints = {parse(raw).fingerprint for raw in (first, other_number, other_sender)}
    fingerprints |= {parse(sample(name)).fingerprint for name in EXPECTED}
    assert len(fingerprints) == len(EXPECTED) + 2


def test_messages_that_were_not_understood_are_never_merged() -> None:
    one = b"\x00\x01garbage one"
    two = b"\x00\x01garbage two"

    assert parse(one).fingerprint != parse(two).fingerprint


# -- Fuzzing -------------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SAMPLES = {
    **{path.name: path.read_bytes() for path in sorted(MESSAGES.glob("*.eml"))},
    **GENERATED,
}


@FUZZ
@given(st.binary(max_size=4_000))
def test_fuzz_any_bytes(raw: bytes) -> None:
    check_invariants(parse(raw))


header_text = st.text(max_size=200)
body_text = st.text(max_size=2_000)


@st.composite
def emails(draw: st.DrawFn) -> bytes:
    """Messages built from text: odd headers, bodies, charsets and transfer encodings."""
    charset = draw(st.sampled_from(["utf-8", "latin-1", "windows-1252", "bogus-42", "", "utf-16"]))
    encoding = draw(st.sampled_from(["8bit", "base64", "quoted-printable", "x-uuencode", "7bit"]))
    ctype = draw(
        st.sampled_from(
            ["text/plain", "text/html", "multipart/mixed", "multipart/alternative",
             "message/rfc822", "application/pdf", "", "text/plain; charset"]
        )
    )  # fmt: skip
    lines = [
        f"From: {draw(header_text)}",
        f"Reply-To: {draw(header_text)}",
        f"Subject: {draw(st.sampled_from([SUBJECT, 'RV: ' + SUBJECT, ''])) + draw(header_text)}",
        f"Message-ID: {draw(header_text)}",
        f"Content-Type: {ctype}; charset={charset}; boundary={draw(header_text)}",
        f"Content-Transfer-Encoding: {encoding}",
        f"Content-Disposition: {draw(header_text)}",
    ]
    head = "\n".join(draw(st.permutations(lines))[: draw(st.integers(0, len(lines)))])
    labels = st.sampled_from(
        ["Nombres:", "APELLIDOS", "DNI/CE/CPP:", "Fecha de nacimiento:", "Celular:", "> ",
         "---------- Forwarded message ---------", "De:", "Enviado:", "--zz", "<p>", "=C3"]
    )  # fmt: skip
    body = "\n".join(
        draw(labels) + " " + draw(st.text(max_size=60)) for _ in range(draw(st.integers(0, 20)))
    ) + draw(body_text)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = (head + "\n\n" + body).replace("\n", newline)
    if draw(st.booleans()):
        return text.encode("utf-8", "surrogatepass")  # lone surrogates become invalid UTF-8
    return text.encode("latin-1", "replace")


@FUZZ
@given(emails())
def test_fuzz_text_built_emails(raw: bytes) -> None:
    check_invariants(parse(raw))


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    """A sample message with random byte flips, insertions and a possible truncation."""
    data = bytearray(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
    for _ in range(draw(st.integers(1, 12))):
        position = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["flip", "insert", "delete"]))
        if operation == "flip" and position < len(data):
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif operation == "insert":
            data[position:position] = draw(
                st.one_of(
                    st.binary(max_size=40),
                    st.sampled_from(
                        [b"\n\n", b"\r\n--", b"=?utf-8?b?", b"<!--", b"\n>", b"(((", b'"', b":"]
                    ),
                )
            )
        else:
            del data[position : position + draw(st.integers(1, 200))]
    if draw(st.booleans()):
        del data[draw(st.integers(0, len(data))) :]
    return bytes(data)


@FUZZ
@given(mutated_samples())
def test_fuzz_mutated_samples(raw: bytes) -> None:
    result = parse(raw)

    check_invariants(result)
    assert parse(raw) == result  # deterministic: the same bytes always give the same result


def test_a_part_content_type_is_cleaned_like_every_other_header() -> None:
    """A NUL or control character in a part's Content-Type is never handed to the database."""
    raw = (
        b"From: ana@example.org\r\nSubject: Solicitud de credenciales\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nCE: 001234567\r\n"
        b"--XX\r\nContent-Type: application/pd\x00f\x07\r\n"
        b'Content-Disposition: attachment; filename="carne.pdf"\r\n\r\n%PDF-1.4\r\n--XX--\r\n'
    )
    (attachment,) = parse(raw).attachments
    assert attachment.filename == "carne.pdf"
    assert not any(ord(c) < 32 for c in attachment.content_type), attachment.content_type
