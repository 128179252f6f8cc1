"""What an officer reads for each reason a credential request needs review.

A case stores its reasons as the stable English codes the parser (`requests_mail`) and
`ingest_email()` give, so a reason keeps its meaning whatever the language of the page that
shows it; this module turns each into the officer's language. A code it does not know is
shown as stored.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from people.documents import DocumentType
from requests_mail import fields, parser

NO_VALID_SENDER = "no valid sender address to answer"

_LABELS: dict[str, tuple[Promise, dict[str, object]]] = {
    parser.UNPARSEABLE: (_("No se pudo leer el mensaje."), {}),
    parser.HEADERS_ONLY: (
        _("No se pudo leer la estructura del mensaje; el cuerpo se leyó como texto simple."),
        {},
    ),
    parser.TOO_LARGE: (
        _("El mensaje pesa más de %(mb)d MB; solo se leyó el comienzo."),
        {"mb": parser.MAX_RAW_BYTES // 2**20},
    ),
    parser.TOO_MANY_PARTS: (
        _("Tiene más de %(n)d partes MIME; las demás no se leyeron."),
        {"n": parser.MAX_PARTS},
    ),
    parser.TOO_MANY_ATTACHMENTS: (
        _("Tiene más de %(n)d adjuntos; los demás no se leyeron."),
        {"n": parser.MAX_ATTACHMENTS},
    ),
    parser.TOO_DEEP: (
        _("Mensajes anidados en demasiados niveles; los internos no se leyeron."),
        {},
    ),
    parser.TEXT_TRUNCATED: (
        _("El texto tiene más de %(n)d caracteres; solo se revisó el comienzo."),
        {"n": parser.MAX_TEXT_CHARS},
    ),
    parser.NO_SENDER: (_("No se encontró la dirección del remitente."), {}),
    parser.NO_ORIGINAL_SENDER: (
        _("Lo reenvió el buzón de informes, pero no se encontró el remitente original."),
        {},
    ),
    parser.EMPTY_BODY: (_("El mensaje no tiene texto."), {}),
    parser.NOT_A_REQUEST: (_("No parece una solicitud de credenciales."), {}),
    parser.LOOSE_WORDING: (_("Pide credenciales sin el texto indicado."), {}),
    parser.FIELDS_FAILED: (_("No se pudieron leer los datos personales."), {}),
    fields.NO_GIVEN_NAMES: (_("No se encontraron los nombres."), {}),
    fields.NO_SURNAMES: (_("No se encontraron los apellidos."), {}),
    fields.FULL_NAME_ONLY: (
        _("El nombre completo viene en un solo campo; separe nombres y apellidos a mano."),
        {},
    ),
    fields.NO_DOCUMENT: (_("No se encontró el número de documento."), {}),
    fields.NO_DOCUMENT_TYPE: (_("No se indica el tipo de documento."), {}),
    fields.BAD_BIRTH_DATE: (_("No se entiende la fecha de nacimiento."), {}),
    fields.TWO_DOCUMENTS: (
        _(
            "El correo da dos números de documento distintos; se tomó el primero. Confirme de "
            "quién es la solicitud."
        ),
        {},
    ),
    fields.TWO_BIRTH_DATES: (
        _(
            "El correo da dos fechas de nacimiento distintas; se tomó la primera. Confirme de "
            "quién es la solicitud."
        ),
        {},
    ),
    NO_VALID_SENDER: (_("No hay una dirección válida a la cual responder."), {}),
}
for _type in DocumentType:
    _LABELS[fields.invalid_document(_type.value)] = (
        _("El número de documento no es válido para %(type)s."),
        {"type": _type.value},
    )


def label(reason: str) -> str:
    """The reason in the language of the current request."""
    known = _LABELS.get(reason)
    if known is None:
        return reason
    text, params = known
    return str(text) % params if params else str(text)
