"""The one digest the portal stores in place of a secret it only needs to check again.

Client tokens, launch tickets and exam browser keys are random, so a plain SHA-256 (no salt,
no stretching) is enough: what matters is that the database never holds the value itself.
"""

import hashlib


def sha256_hex(value: str) -> str:
    """The hex SHA-256 of value's UTF-8 bytes: the stored, comparable form of a secret."""
    return hashlib.sha256(value.encode()).hexdigest()
