"""`manage.py smtp_receiver`: receive the information mailbox's forwards over SMTP."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agency.smtp import serve_forever


class Command(BaseCommand):
    help = (
        "Receive credential requests by SMTP (the information mailbox forwards them here) "
        "until SIGTERM or Ctrl-C. Each message becomes a case, or joins its open case."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default=settings.BUZON_SMTP_HOST,
            help="address to listen on (BUZON_SMTP_HOST, default %(default)s)",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=settings.BUZON_SMTP_PORT,
            help="port to listen on (BUZON_SMTP_PORT, default %(default)s)",
        )

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        if not 0 < port < 65536:
            raise CommandError(f"--port must be from 1 to 65535, got {port}")
        try:  # serve_forever logs where it listens once it does
            serve_forever(host, port)
        except OSError as error:  # the port is taken, the address is not this machine's
            raise CommandError(f"cannot listen on {host}:{port}: {error}") from error
