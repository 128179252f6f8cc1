"""Create a new Ed25519 checkpoint key and make it current. Old public keys stay in the
keyring, so checkpoints signed with them still verify. Publish the new .pub file."""

from typing import Any

from django.core.management.base import BaseCommand

from evidence import keys


class Command(BaseCommand):
    help = "Generate a new checkpoint signing key; old checkpoints stay verifiable."

    def handle(self, *args: Any, **options: Any) -> None:
        key = keys.generate()
        self.stdout.write(f"new checkpoint key {key.key_id}; public key:")
        self.stdout.write(keys.public_key_pem(key.key_id))
