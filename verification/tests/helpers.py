import hashlib
import re
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from evidence.models import Certificate
from verification.codes import new_code

LIMA = ZoneInfo("America/Lima")
CERTIFICATE_PDF = b"%PDF-1.7\n% constancia de notificacion de prueba\n%%EOF\n"


def certificate_for(notification, pdf=CERTIFICATE_PDF):
    return Certificate.objects.create(
        code=new_code(),
        notification=notification,
        issued_at=timezone.now(),
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
    )


def pdf_file(content, name="documento.pdf"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def text_of(response):
    """The visible text, roughly: tags out, whitespace folded."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
