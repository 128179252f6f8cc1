from django.contrib.auth.hashers import Argon2PasswordHasher


class BuzonArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's minimum parameters: 19 MiB of memory, 2 iterations, 1 lane.

    (OWASP Password Storage Cheat Sheet.) Django's default uses 8 lanes, which on a 2-core
    server buys no extra cost for an attacker's GPU but halves our login throughput.
    """

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
