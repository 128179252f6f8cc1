"""Generation of the initial buzón password printed on the constancia."""

import secrets

# No 0/O, 1/l/I: the password is read off paper and typed on a phone.
READABLE_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 12  # 12 symbols from 56: about 69.7 bits


def generate_password(length: int = GENERATED_LENGTH) -> str:
    if length < 12:
        raise ValueError("generated passwords have at least 12 characters")
    return "".join(secrets.choice(READABLE_ALPHABET) for _ in range(length))
