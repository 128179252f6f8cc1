from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.keys import client_named, create_key, set_units
from api.models import Scope
from mailboxes.models import IssuingUnit

UNIT_SCOPES = {Scope.NOTIFICATIONS_WRITE.value, Scope.NOTIFICATIONS_READ.value}


class Command(BaseCommand):
    help = "Create an API key for an agency system and print it once (only its hash is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", required=True, help="the system's name, e.g. sistema-cpp")
        parser.add_argument("--name", default="principal", help="a name for this key")
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=Scope.values,
            help="repeat for several scopes",
        )
        parser.add_argument(
            "--unit",
            action="append",
            default=[],
            metavar="CODE",
            help="an issuing unit the system deposits for and reads (e.g. SIN); repeat for "
            "several. Added to the units it has; narrow them in /oficina/ (Integraciones)",
        )
        parser.add_argument(
            "--test", action="store_true", help="a test client: acts only on test mailboxes"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        codes = sorted({code.strip().upper() for code in options["unit"]})
        units = list(IssuingUnit.objects.filter(code__in=codes))
        unknown = sorted(set(codes) - {u.code for u in units})
        if unknown:
            known = ", ".join(IssuingUnit.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(f"unknown unit {', '.join(unknown)} (the units: {known})")
        client, created = client_named(options["client"], test=options["test"])
        if not created and client.is_test != options["test"]:
            raise CommandError(
                f"client {client.name} exists as a {'test' if client.is_test else 'live'} client"
            )
        if units:
            set_units(client, [*client.units.all(), *units], actor=None)
        _key, plaintext = create_key(client, options["name"], options["scope"], actor=None)
        self.stdout.write(plaintext)
        self.stderr.write("Store it now: it is shown once and kept only as a hash.")
        has = sorted(client.units.values_list("code", flat=True))
        if has:
            self.stderr.write(f"{client.name} deposits for and reads the units {', '.join(has)}.")
        elif UNIT_SCOPES & set(options["scope"]):
            self.stderr.write(
                f"{client.name} acts for no issuing unit yet: it can neither deposit nor read "
                "notifications. Give it its units with --unit or in /oficina/ (Integraciones)."
            )
