"""Sockets for tests and benchmarks that start servers on loopback."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a server that cannot be given port 0 (aiosmtpd's
    Controller) or whose address must be known before it starts."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
