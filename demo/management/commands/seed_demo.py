"""Idempotent demo data for `make run`: officers, two people with procedures, their logins.

Refuses to run in production. Running it again changes nothing and prints the same logins.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.actions import change_password
from accounts.models import User
from agency.actions import RequestInput, submit_request
from agency.models import CredentialRequest
from api.keys import client_named, create_key, set_units
from api.models import Scope
from backoffice.groups import NOTIFIERS, REGISTRY, SUPERVISORS
from mailboxes.actions import deposit_notification
from mailboxes.inputs import Appeal, AttachmentInput, NotificationInput
from mailboxes.models import IssuingUnit
from people.models import Person
from procedures.actions import register_procedure
from procedures.inputs import PersonInput, ProcedureInput

# Demo-only passwords, printed for whoever runs the demo. They never exist in production.
OFFICERS = [
    ("mesa", "Rosa", "Quispe", [REGISTRY], "demo-mesa-de-partes", False),
    ("notificador", "Carmen", "Flores", [NOTIFIERS], "demo-notificador-2026", False),
    ("supervisor", "Jorge", "Huamán", [SUPERVISORS, NOTIFIERS], "demo-supervisor-2026", False),
    ("admin", "Admin", "Buzón", [], "demo-admin-buzon-2026", True),
]
NOTIFYING_UNIT = "SIN"
DEMO_API_CLIENT = "demo-pruebas"
# A credential request waiting in /oficina/solicitudes/.
DEMO_REQUEST = RequestInput(
    doc_type="DNI",
    doc_number="10117410",
    given_names="Luis Alberto",
    surnames="Paredes Mendoza",
    birth_date=date(1985, 9, 30),
    nationality="PE",
    contact_email="luis.paredes@example.org",
    message="Mi constancia no trae la contraseña del buzón.",
)


def _demo_pdf(title: str) -> bytes:
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(72, 770, title)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(72, 750, "Documento de demostración generado por Buzón.")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


DEMO_NOTIFICATIONS = [
    NotificationInput(
        procedure_number="LM260000101",
        unit=NOTIFYING_UNIT,
        kind="correction",
        subject="Subsanación: falta la copia de su pasaporte",
        body=(
            "Estimada señora González:\n\nPara continuar con su solicitud de CPP, adjunte una "
            "**copia legible de su pasaporte vigente** (todas las páginas con datos).\n\n"
            "Tiene **2 días hábiles** para hacerlo (art. 136 del TUO de la Ley N.° 27444)."
        ),
        attachments=[AttachmentInput("oficio-subsanacion.pdf", _demo_pdf("Oficio de subsanación"))],
        idempotency_key="demo:subsanacion",
    ),
    NotificationInput(
        procedure_number="LM260000101",
        unit=NOTIFYING_UNIT,
        kind="resolution",
        subject="Resolución que aprueba su Carné de Permiso Temporal de Permanencia",
        body=(
            "## Se resuelve\n\n1. **Aprobar** la solicitud de CPP.\n2. Notificar a la "
            "administrada por su casilla electrónica."
        ),
        attachments=[AttachmentInput("resolucion-cpp.pdf", _demo_pdf("Resolución de aprobación"))],
        ends_administrative_route=False,
        appeals=[
            Appeal("Reconsideración", "la Subgerencia de Inmigración y Nacionalización", 15),
            Appeal(
                "Apelación", "la misma Subgerencia, para la Gerencia de Servicios Migratorios", 15
            ),
        ],
        idempotency_key="demo:resolucion",
    ),
]

PEOPLE = [
    (
        PersonInput(
            doc_type="CPP",
            doc_number="001234567",
            given_names="María Alejandra",
            first_surname="González",
            second_surname="Rivas",
            birth_date=date(1991, 4, 12),
            nationality="VE",
            email="maria.gonzalez@example.org",
            mobile_phone="987654321",
        ),
        ProcedureInput(
            procedure_type="CPP", office="LM", filing_date=date(2026, 3, 2), number="LM260000101"
        ),
        "demo-buzon-maria",
    ),
    (
        PersonInput(
            doc_type="DNI",
            doc_number="10117410",
            given_names="Luis Alberto",
            first_surname="Paredes",
            second_surname="Mendoza",
            birth_date=date(1985, 9, 30),
            nationality="PE",
        ),
        ProcedureInput(
            procedure_type="PAS", office="AQ", filing_date=date(2026, 5, 18), number="AQ260000102"
        ),
        "demo-buzon-luis",
    ),
    # No known password: she gets in through the Agencia Digital (flow 2b). Her email is on
    # file but not verified, so the one-time code goes there (var/mail/ in development).
    (
        PersonInput(
            doc_type="CE",
            doc_number="000456789",
            given_names="Yohana",
            first_surname="Pérez",
            second_surname="Díaz",
            birth_date=date(1994, 7, 21),
            nationality="VE",
            email="yohana.perez@example.org",
        ),
        ProcedureInput(
            procedure_type="CPP", office="LM", filing_date=date(2026, 4, 6), number="LM260000103"
        ),
        None,
    ),
]


class Command(BaseCommand):
    help = "Load idempotent demo data and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production")
        with transaction.atomic():
            for username, first, last, groups, password, superuser in OFFICERS:
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "first_name": first,
                        "last_name": last,
                        "kind": User.Kind.OFFICER,
                        "is_staff": superuser,
                        "is_superuser": superuser,
                    },
                )
                if created:
                    user.set_password(password)
                    user.save()
                user.groups.add(*Group.objects.filter(name__in=groups))
                if NOTIFIERS in groups:
                    IssuingUnit.objects.get(code=NOTIFYING_UNIT).members.add(user)
            logins = []
            for person_input, procedure_input, printed in PEOPLE:
                result = register_procedure(person_input, procedure_input, actor=None)
                person_user = result.procedure.person.user
                assert person_user is not None
                if result.created and printed:
                    # The constancia holds a random password; the demo uses a printed one.
                    change_password(person_user, printed, actor=None)
                person = result.procedure.person
                if printed:
                    logins.append((person.get_doc_type_display(), person.doc_number, printed))
            # María's email is verified, so her alerts go out (to var/mail/ in development).
            Person.objects.filter(doc_number="001234567").update(email_verified=True)
        for item in DEMO_NOTIFICATIONS:
            deposit_notification(item, actor=None)
        if not CredentialRequest.objects.exists():
            submit_request(DEMO_REQUEST, None, ip_address=None)
        # A test system for trying the API: its key exists only in this output, once.
        api_client, api_created = client_named(DEMO_API_CLIENT, test=True)
        if not api_client.units.exists():  # the unit of the demo's notifications
            set_units(api_client, IssuingUnit.objects.filter(code=NOTIFYING_UNIT), actor=None)
        demo_key = (
            create_key(api_client, "demo", Scope.values, actor=None)[1] if api_created else None
        )

        self.stdout.write("Demo logins (demo only):")
        base = settings.PUBLIC_BASE_URL
        self.stdout.write(f"  Buzón (persona)  {base}/buzon/ingresar/")
        for doc_type, number, password in logins:
            self.stdout.write(f"    {doc_type:<55} {number:<10} {password}")
        self.stdout.write(
            f"  Agencia Digital  {base}/agencia/  (sin credenciales) Extranjero · Carné de "
            "Extranjería 000456789 · Yohana Pérez Díaz · 21/07/1994 · Venezuela · trámite "
            "LM260000103 del 06/04/2026; el código llega a var/mail/"
        )
        self.stdout.write(f"  Oficina          {base}/oficina/")
        for username, _first, _last, groups, password, superuser in OFFICERS:
            role = "superusuario, también /admin/" if superuser else ", ".join(groups)
            self.stdout.write(f"    {username:<12} {password:<24} ({role})")
        self.stdout.write(f"  API              {base}/api/v1/docs  (docs/api.md)")
        if demo_key:
            self.stdout.write(
                f"    {DEMO_API_CLIENT} (test key for unit {NOTIFYING_UNIT}, shown only now): "
                f"{demo_key}"
            )
        else:
            self.stdout.write(
                f"    {DEMO_API_CLIENT}: its test key was shown on the first run; make another "
                f"in {base}/oficina/integraciones/ (supervisor)"
            )
