"""The officer groups and what each may do. Ensured after every migrate (idempotent)."""

from typing import Any

from django.contrib.auth.models import Group, Permission

REGISTRY = "Mesa de partes"
SUPERVISORS = "Supervisores"
NOTIFIERS = "Notificadores"

GROUP_PERMISSIONS = {
    # Registers procedures and hands out constancias.
    REGISTRY: ["procedures.add_procedure", "procedures.view_procedure"],
    # Also reissues credentials after checking a person's identity, and answers credential
    # requests (Solicitud de credenciales) in /oficina/solicitudes/, and manages the systems
    # that use the API (keys, webhooks, delivery log) in /oficina/integraciones/.
    SUPERVISORS: [
        "procedures.add_procedure",
        "procedures.view_procedure",
        "accounts.reissue_credentials",
        "agency.handle_credentialrequest",
        "payments.view_debt",
        "payments.resolve_payment",
        "api.add_apikey",
        "api.change_apikey",
    ],
    # Compose and deposit notifications for the units they belong to, and follow them; review
    # the answers to their units' correction requests, and follow what is owed and paid.
    NOTIFIERS: [
        "mailbox.add_notification",
        "mailbox.view_notification",
        "corrections.review_answer",
        "payments.view_debt",
    ],
}


def ensure_officer_groups(**kwargs: Any) -> None:
    for name, perms in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:
                wanted.append(perm)
        group.permissions.add(*wanted)
