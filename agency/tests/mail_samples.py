"""Credential requests as they reach the SMTP receiver: raw messages built in code.

Each sample is the exact bytes an MTA would send after DATA: CRLF line endings, no line longer
than SMTP allows, ending with CRLF. The seed tells people to write to informes@migraciones.gob.pe
with the subject "Solicitud de credenciales para acceder a mi buzón electrónico" and their
personal data below it; the information mailbox forwards the messages to Buzón.

The hand-written .eml files of requests_mail/tests/messages/ test the parser in depth; these
cover the same kinds of message (and reuse its garbage bytes) for the receiver end to end.
"""

from __future__ import annotations

import base64
import email.policy
import io
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from requests_mail.tests.test_parser import GENERATED, SUBJECT
from tests.factories import pdf_bytes

INFO = "informes@migraciones.gob.pe"
INTAKE = "solicitudes@buzon.migraciones.gob.pe"
SMTP = email.policy.SMTP  # CRLF line endings, as on the wire


@dataclass(frozen=True)
class Sample:
    name: str
    raw: bytes
    mail_from: str  # the envelope sender (MAIL FROM)
    # What the case must hold. Empty for a message that needs an officer's review.
    expected: dict[str, object] = field(default_factory=dict)
    contact_email: str = ""  # where the acknowledgement goes; "" for none
    attachments: tuple[str, ...] = ()  # content types of the attachments kept on the case

    @property
    def well_formed(self) -> bool:
        return bool(self.expected)


def wire(data: bytes) -> bytes:
    """Bytes as SMTP carries them: CRLF endings and a final CRLF (smtplib adds one otherwise,
    and the stored copy would differ from what the test sent)."""
    text = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return text if text.endswith(b"\r\n") else text + b"\r\n"


def jpeg_bytes() -> bytes:
    """A real, tiny JPEG: a photo of an identity document, as far as anyone can tell."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 10), (200, 180, 150)).save(buffer, "JPEG")
    return buffer.getvalue()


def _message(
    sender: str, subject: str, *, to: str = INFO, message_id: str, date_header: str
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = date_header
    message["Message-ID"] = message_id
    return message


SIMPLE_BODY = """Buenos días:

Solicitud de credenciales para acceder a mi buzón electrónico.

Nombres: María Fernanda
Apellidos: González Pérez
DNI/CE/CPP: CPP 001234567
Fecha de nacimiento: 14/07/1991
Nacionalidad: Venezolana
Celular: 987 654 321

Gracias de antemano.

María Fernanda González
"""


def simple() -> Sample:
    """The seed's message, written as the seed asks."""
    message = _message(
        "María Fernanda González <mariafer.gonzalez88@gmail.com>",
        SUBJECT,
        message_id="<CAF7x2kP3n9QdWm+Lr8vK1@mail.gmail.com>",
        date_header="Mon, 3 Mar 2025 09:14:22 -0500",
    )
    message.set_content(SIMPLE_BODY, cte="8bit")
    return Sample(
        "simple",
        wire(message.as_bytes()),
        "mariafer.gonzalez88@gmail.com",
        expected={
            "doc_type": "CPP",
            "doc_number": "001234567",
            "given_names": "María Fernanda",
            "surnames": "González Pérez",
            "birth_date": date(1991, 7, 14),
            "nationality": "Venezolana",
        },
        contact_email="mariafer.gonzalez88@gmail.com",
    )


def upper_case_without_accents() -> Sample:
    """All capitals, no accents, the labels in another order (typed on a phone)."""
    message = _message(
        "CARLOS MENDOZA <Carlos.Mendoza.Silva@yahoo.es>",
        "SOLICITUD DE CREDENCIALES PARA ACCEDER A MI BUZON ELECTRONICO",
        message_id="<1741012345.77.carlos@yahoo.es>",
        date_header="Tue, 4 Mar 2025 20:05:00 -0500",
    )
    message.set_content(
        "BUENAS NOCHES\n\n"
        "FECHA DE NACIMIENTO: 23-11-1985\n"
        "DNI: 45678912\n"
        "NACIONALIDAD: PERUANA\n"
        "APELLIDOS: MENDOZA SILVA\n"
        "NOMBRES: CARLOS ALBERTO\n"
        "CELULAR 998877665\n",
        cte="7bit",
    )
    return Sample(
        "upper_case_without_accents",
        wire(message.as_bytes()),
        "carlos.mendoza.silva@yahoo.es",
        expected={
            "doc_type": "DNI",
            "doc_number": "45678912",
            "given_names": "CARLOS ALBERTO",
            "surnames": "MENDOZA SILVA",
            "birth_date": date(1985, 11, 23),
            "nationality": "PERUANA",
        },
        contact_email="carlos.mendoza.silva@yahoo.es",
    )


def html_only() -> Sample:
    """A webmail that sends HTML and nothing else."""
    message = _message(
        "Yulimar Pérez <yulimar.perez.r@hotmail.com>",
        SUBJECT,
        message_id="<DM6PR01MB4321.namprd01.prod.outlook.com>",
        date_header="Wed, 5 Mar 2025 11:40:10 +0000",
    )
    message.set_content(
        "<html><head><style>p { margin: 0 }</style></head><body>"
        "<p>Buenos días, solicito mis credenciales para acceder a mi buzón electrónico.</p>"
        "<p><b>Nombres:</b> Yulimar Andreína<br>"
        "<b>Apellidos:</b> Pérez Rodríguez<br>"
        "<b>DNI/CE/CPP:</b> CE N° 000987654<br>"
        "<b>Fecha de nacimiento:</b> 05/03/1990<br>"
        "<b>Nacionalidad:</b> Venezolana</p>"
        "<p>Saludos</p></body></html>\n",
        subtype="html",
        cte="quoted-printable",
    )
    return Sample(
        "html_only",
        wire(message.as_bytes()),
        "yulimar.perez.r@hotmail.com",
        expected={
            "doc_type": "CE",
            "doc_number": "000987654",
            "given_names": "Yulimar Andreína",
            "surnames": "Pérez Rodríguez",
            "birth_date": date(1990, 3, 5),
            "nationality": "Venezolana",
        },
        contact_email="yulimar.perez.r@hotmail.com",
    )


def forwarded_inline() -> Sample:
    """The information mailbox forwards the person's message inline (Gmail style)."""
    message = _message(
        f"Informes Migraciones <{INFO}>",
        f"Fwd: {SUBJECT}",
        to=INTAKE,
        message_id="<CAGnx8mQ0fwd7Yr2@mail.migraciones.gob.pe>",
        date_header="Fri, 7 Mar 2025 10:31:00 -0500",
    )
    message.set_content(
        "Se reenvía para su atención.\n\n"
        "--\nMesa de Informes\nSuperintendencia Nacional de Migraciones\n"
        "Teléfono: (01) 200-1000\n\n"
        "---------- Forwarded message ---------\n"
        "From: Luis Miguel Herrera <luismi.herrera@hotmail.com>\n"
        "Date: jue, 6 mar 2025 a las 22:47\n"
        f"Subject: {SUBJECT}\n"
        f"To: <{INFO}>\n\n\n"
        "Buenas noches, no encuentro mis credenciales en la constancia.\n\n"
        "Nombres: Luis Miguel\n"
        "Apellidos: Herrera Blanco\n"
        "CPP: 000543210\n"
        "Fecha de nacimiento: 1984-10-09\n"
        "Nacionalidad: Venezolana\n"
        "Teléfono: 951 222 333\n",
        cte="quoted-printable",
    )
    return Sample(
        "forwarded_inline",
        wire(message.as_bytes()),
        INFO,
        expected={
            "doc_type": "CPP",
            "doc_number": "000543210",
            "given_names": "Luis Miguel",
            "surnames": "Herrera Blanco",
            "birth_date": date(1984, 10, 9),
            "nationality": "Venezolana",
        },
        contact_email="luismi.herrera@hotmail.com",
    )


def forwarded_as_attachment() -> Sample:
    """Outlook/Exchange "forward as attachment": the person's message as message/rfc822."""
    original = _message(
        "Wilmer Castro <wilmer.castro.82@gmail.com>",
        SUBJECT,
        message_id="<CAK9wc82mQ1w@mail.gmail.com>",
        date_header="Sat, 8 Mar 2025 18:05:41 -0500",
    )
    original.set_content(
        "Buenas tardes, solicito mis credenciales. Adjunto foto de mi carné.\n\n"
        "Nombres: Wilmer Andrés\n"
        "Apellidos: Castro Linares\n"
        "Carné de extranjería: 000112233\n"
        "Fecha de nacimiento: 17/06/1982\n"
        "Nacionalidad: venezolano\n",
        cte="8bit",
    )
    original.add_attachment(
        jpeg_bytes(), maintype="image", subtype="jpeg", filename="carne_extranjeria.jpg"
    )
    message = _message(
        f"Informes <{INFO}>",
        f"RV: {SUBJECT}",
        to=INTAKE,
        message_id="<7d1c9a0e2b5f4c3a9e8d@EXCH01.migraciones.gob.pe>",
        date_header="Mon, 10 Mar 2025 13:12:07 +0000",
    )
    message.set_content(
        "Reenvío la solicitud adjunta para su trámite.\n\n"
        "Mesa de Informes - Teléfono: (01) 200-1000\n",
        cte="8bit",
    )
    message.add_attachment(original, filename="Solicitud de credenciales.eml")
    return Sample(
        "forwarded_as_attachment",
        wire(message.as_bytes()),
        INFO,
        expected={
            "doc_type": "CE",
            "doc_number": "000112233",
            "given_names": "Wilmer Andrés",
            "surnames": "Castro Linares",
            "birth_date": date(1982, 6, 17),
            "nationality": "venezolano",
        },
        contact_email="wilmer.castro.82@gmail.com",
        attachments=("image/jpeg",),
    )


def with_jpeg_and_pdf() -> Sample:
    """A photo of the document and a PDF of the procedure's constancia, base64."""
    message = _message(
        "Rosa Elena Quintero <rosaelena.quintero@gmail.com>",
        SUBJECT,
        message_id="<CAJpdf+jpg0010@mail.gmail.com>",
        date_header="Thu, 13 Mar 2025 08:00:00 -0500",
    )
    message.set_content(
        "Buenos días, adjunto mi CPP y la constancia del trámite.\n\n"
        "Nombres: Rosa Elena\n"
        "Apellidos: Quintero de Almeida\n"
        "DNI/CE/CPP: CPP 000778899\n"
        "Fecha de nacimiento: 1 de diciembre de 1976\n"
        "Nacionalidad: Venezolana\n",
        cte="quoted-printable",
    )
    message.add_attachment(
        jpeg_bytes(), maintype="image", subtype="jpeg", filename="CPP_frente.jpg"
    )
    message.add_attachment(
        pdf_bytes(), maintype="application", subtype="pdf", filename="constancia_tramite.pdf"
    )
    return Sample(
        "with_jpeg_and_pdf",
        wire(message.as_bytes()),
        "rosaelena.quintero@gmail.com",
        expected={
            "doc_type": "CPP",
            "doc_number": "000778899",
            "given_names": "Rosa Elena",
            "surnames": "Quintero de Almeida",
            "birth_date": date(1976, 12, 1),
            "nationality": "Venezolana",
        },
        contact_email="rosaelena.quintero@gmail.com",
        attachments=("image/jpeg", "application/pdf"),
    )


def wrong_charset() -> Sample:
    """Declared UTF-8, written in Windows-1252, with an unencoded 8-bit subject (an old
    webmail). The parser recovers the text, so the data is read like any other's."""
    raw = (
        "From: Martha Lucía Ospina <marthaospina@une.net.co>\n"
        f"To: {INFO}\n"
        f"Subject: {SUBJECT}\n"
        "Date: Tue, 18 Mar 2025 14:29:55 -0500\n"
        "Message-ID: <20250318142955.7a6b5c4d@webmail.une.net.co>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "Señores:\n\n"
        "Nombres: Martha Lucía\n"
        "Apellidos: Ospina Gutiérrez\n"
        "DNI/CE/CPP: CE 000223344\n"
        "Fecha de nacimiento: 09/04/1972\n"
        "Nacionalidad: colombiana\n"
    ).encode("cp1252")
    return Sample(
        "wrong_charset",
        wire(raw),
        "marthaospina@une.net.co",
        expected={
            "doc_type": "CE",
            "doc_number": "000223344",
            "given_names": "Martha Lucía",
            "surnames": "Ospina Gutiérrez",
            "birth_date": date(1972, 4, 9),
            "nationality": "colombiana",
        },
        contact_email="marthaospina@une.net.co",
    )


# -- Malformed: each becomes a case for an officer's review, never a lost message -------------


def garbage() -> Sample:
    """Bytes that are no email at all (requests_mail's sample), cut into SMTP-sized lines."""
    data = GENERATED["14_basura.eml"]
    lines = [data[i : i + 76] for i in range(0, len(data), 76)]
    return Sample("garbage", b"\r\n".join(lines) + b"\r\n", "")


def headers_only() -> Sample:
    """The seed's subject and nothing else: no body at all, not even the blank line."""
    raw = (
        "From: Pedro Urdaneta <ppurdaneta@gmail.com>\n"
        f"To: {INFO}\n"
        "Subject: Solicitud de credenciales para acceder a mi buzon electronico\n"
        "Date: Wed, 19 Mar 2025 07:43:12 -0500\n"
        "Message-ID: <CAhdrs0nly@mail.gmail.com>\n"
    ).encode()
    return Sample(
        "headers_only", wire(raw), "ppurdaneta@gmail.com", contact_email="ppurdaneta@gmail.com"
    )


def broken_boundary() -> Sample:
    """The declared boundary never appears (a client that rewrote one and not the other), so
    the base64 text part cannot be told apart from the rest: nothing can be read from it."""
    text = base64.encodebytes(SIMPLE_BODY.replace("María Fernanda", "Dayana").encode()).decode()
    raw = (
        "From: Dayana Mora <dayana.mora.p@gmail.com>\n"
        f"To: {INFO}\n"
        "Subject: Solicitud de credenciales\n"
        "Date: Thu, 20 Mar 2025 12:00:00 -0500\n"
        "Message-ID: <CAbroken+boundary@mail.gmail.com>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="0000000000001111"\n\n'
        "--0000000000002222\n"
        'Content-Type: text/plain; charset="UTF-8"\n'
        "Content-Transfer-Encoding: base64\n\n"
        f"{text}"
        "--0000000000002222\n"
    ).encode()
    return Sample(
        "broken_boundary",
        wire(raw),
        "dayana.mora.p@gmail.com",
        contact_email="dayana.mora.p@gmail.com",
    )


def empty_body() -> Sample:
    """The seed's subject, an empty body."""
    message = _message(
        "Richard Colmenares <richard.colmenares@gmail.com>",
        SUBJECT,
        message_id="<CAempty0body@mail.gmail.com>",
        date_header="Fri, 21 Mar 2025 07:43:12 -0500",
    )
    message.set_content("\n")
    return Sample(
        "empty_body",
        wire(message.as_bytes()),
        "richard.colmenares@gmail.com",
        contact_email="richard.colmenares@gmail.com",
    )


def spam() -> Sample:
    """Unrelated mail that reached the information mailbox: stored and left for review."""
    message = MIMEMultipart("alternative", policy=SMTP)
    message["From"] = "Ofertas Exclusivas <promo@ofertas-increibles.example>"
    message["To"] = INFO
    message["Subject"] = "¡Felicidades! Ganaste un iPhone 16"
    message["Date"] = "Sat, 22 Mar 2025 03:12:00 +0000"
    message["Message-ID"] = "<promo.123456@ofertas-increibles.example>"
    text = "Haz clic aquí para reclamar tu premio: http://ofertas-increibles.example/premio\n"
    message.attach(MIMEText(text, "plain", "utf-8"))
    message.attach(MIMEText(f"<p><a href='#'>{text}</a></p>\n", "html", "utf-8"))
    return Sample(
        "spam",
        wire(message.as_bytes()),
        "bounce-8812@ofertas-increibles.example",
        contact_email="promo@ofertas-increibles.example",
    )


WELL_FORMED = [
    simple(),
    upper_case_without_accents(),
    html_only(),
    forwarded_inline(),
    forwarded_as_attachment(),
    with_jpeg_and_pdf(),
    wrong_charset(),
]
MALFORMED = [garbage(), headers_only(), broken_boundary(), empty_body(), spam()]
SAMPLES = {sample.name: sample for sample in [*WELL_FORMED, *MALFORMED]}
