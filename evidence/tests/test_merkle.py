"""The Merkle tree against a direct transcription of RFC 6962's recursive definition (with
the entry hashes themselves as leaves, see evidence/merkle.py)."""

import hashlib
import random

import pytest

from evidence import merkle


def reference_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = merkle._split(len(leaves))
    return hashlib.sha256(
        b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])
    ).digest()


def reference_path(m: int, leaves: list[bytes]) -> list[str]:
    if len(leaves) == 1:
        return []
    k = merkle._split(len(leaves))
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_root(leaves[k:]).hex()]
    return [*reference_path(m - k, leaves[k:]), reference_root(leaves[:k]).hex()]


def hashes(n: int) -> list[str]:
    return [hashlib.sha256(f"entry {i}".encode()).hexdigest() for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 7, 8, 9, 16, 17, 100, 257])
def test_roots_and_proofs_match_the_rfc_definition(n):
    entries = hashes(n)
    leaves = [bytes.fromhex(h) for h in entries]
    tree = merkle.Tree(entries)
    assert tree.root == reference_root(leaves).hex()
    accumulator = merkle.Accumulator()
    for h in entries:
        accumulator.add(h)
    assert accumulator.root == tree.root
    for m in range(n):
        path = tree.proof(m)
        assert path == reference_path(m, leaves)
        assert merkle.verify_inclusion(entries[m], m, n, path, tree.root)


def test_a_proof_fails_for_another_entry_position_or_root():
    entries = hashes(13)
    tree = merkle.Tree(entries)
    path = tree.proof(5)
    assert merkle.verify_inclusion(entries[5], 5, 13, path, tree.root)
    assert not merkle.verify_inclusion(entries[6], 5, 13, path, tree.root)
    assert not merkle.verify_inclusion(entries[5], 4, 13, path, tree.root)
    assert not merkle.verify_inclusion(entries[5], 5, 13, path, merkle.Tree(entries[:12]).root)


def test_pieces_built_apart_join_into_the_same_root():
    rng = random.Random(7)
    for n in range(1, 120):
        entries = hashes(n)
        cuts = sorted(rng.sample(range(1, n), min(n - 1, 3))) if n > 1 else []
        blocks = []
        for start, end in zip([0, *cuts], [*cuts, n], strict=True):
            builder = merkle.AlignedBuilder(start)
            for h in entries[start:end]:
                builder.add_leaf(merkle.leaf_hash(h))
            blocks += builder.blocks
        rng.shuffle(blocks)
        assert merkle.root_from_blocks(blocks) == (n, merkle.Tree(entries).root)
    # A missing piece is a gap: fewer leaves covered, no root.
    builder = merkle.AlignedBuilder(4)
    builder.add_leaf(merkle.leaf_hash(hashes(1)[0]))
    assert merkle.root_from_blocks(builder.blocks) == (1, "")
