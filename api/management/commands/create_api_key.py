from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.keys import client_named, create_key
from api.models import Scope


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
            "--test", action="store_true", help="a test client: acts only on test mailboxes"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        client, created = client_named(options["client"], test=options["test"])
        if not created and client.is_test != options["test"]:
            raise CommandError(
                f"client {client.name} exists as a {'test' if client.is_test else 'live'} client"
            )
        _key, plaintext = create_key(client, options["name"], options["scope"], actor=None)
        self.stdout.write(plaintext)
        self.stderr.write("Store it now: it is shown once and kept only as a hash.")
