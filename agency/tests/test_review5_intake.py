"""Review 5: odd input to the credential-request intake must be filed, never refused for good."""

from __future__ import annotations

import pytest

from agency.actions import ingest_email
from agency.models import CredentialRequest, InboundMessage

pytestmark = pytest.mark.django_db

REQUEST_WITH_A_NUL_IN_A_PART_HEADER = (
    b"From: ana@example.org\r\n"
    b"To: informes@migraciones.gob.pe\r\n"
    b"Subject: Solicitud de credenciales para acceder a mi buzon electronico\r\n"
    b"Message-ID: <nul-in-part-header@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=XX\r\n"
    b"\r\n"
    b"--XX\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Nombres: Ana\r\nApellidos: Ruiz Soto\r\nCE: 001234567\r\n"
    b"Fecha de nacimiento: 12/04/1991\r\n"
    b"--XX\r\n"
    b"Content-Type: application/pd\x00f\r\n"
    b'Content-Disposition: attachment; filename="carne.pdf"\r\n'
    b"\r\n"
    b"%PDF-1.4 not really\r\n"
    b"--XX--\r\n"
)


def test_a_nul_byte_in_an_attachment_header_still_files_the_request():
    """A NUL in a part's Content-Type (a broken mailer, or on purpose) reaches the case's
    `attachments` JSON as "\\u0000", which PostgreSQL's jsonb refuses: ingest_email() raises,
    the SMTP client gets 451 on every retry, and the request is never filed (the MTA bounces
    it days later). Every other header value is cleaned of control characters by the parser;
    this one is not."""
    ingested = ingest_email(REQUEST_WITH_A_NUL_IN_A_PART_HEADER, mail_from="ana@example.org")
    case = CredentialRequest.objects.get(pk=ingested.case.pk)
    assert InboundMessage.objects.filter(request=case).count() == 1
    assert case.doc_number == "001234567"
    assert [a["filename"] for a in case.attachments] == ["carne.pdf"]
    assert "\x00" not in case.attachments[0]["content_type"]


def test_whatever_nul_the_parser_misses_never_reaches_the_database(monkeypatch):
    """The second line of defence: a NUL anywhere in what the parser hands over (the JSON of
    attachments and review reasons, the text fields) or in the SMTP envelope is dropped before
    the case is written, so the message is filed rather than refused on every retry."""
    from dataclasses import replace

    from requests_mail import parser
    from requests_mail.parser import Attachment

    def careless_parse(raw: bytes) -> parser.ParsedRequest:
        parsed = parser.parse(raw)
        return replace(
            parsed,
            given_names="An\x00a",
            attachments=(Attachment("car\x00ne.pdf", "application/pd\x00f", 20, "0" * 64),),
            reasons=("a reason with a \x00",),
            needs_review=True,
        )

    monkeypatch.setattr("agency.actions.parse", careless_parse)
    ingested = ingest_email(REQUEST_WITH_A_NUL_IN_A_PART_HEADER, mail_from="an\x00a@example.org")
    case = CredentialRequest.objects.get(pk=ingested.case.pk)
    assert case.given_names == "Ana"
    assert case.attachments == [
        {"filename": "carne.pdf", "content_type": "application/pdf", "size": 20, "sha256": "0" * 64}
    ]
    assert case.review_reasons == ["a reason with a "]
    assert InboundMessage.objects.get(request=case).mail_from == "ana@example.org"
