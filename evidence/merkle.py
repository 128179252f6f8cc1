"""A Merkle tree over entry hashes, shaped as in RFC 6962 (Certificate Transparency), 2.1.

The leaves are the entries' own hashes, SHA-256 of their canonical JSON; inner nodes are
SHA-256(0x01 || left || right). RFC 6962 hashes each leaf again as SHA-256(0x00 || input) so
that a leaf can never pass for an inner node; here every leaf is the hash of a text that
starts with "{" (0x7B), never 0x01, which separates the two just as well and spares verifying
a million entries a million extra hashes. An inclusion proof lets anyone holding one entry and
a signed checkpoint check that the entry is among those the checkpoint sealed, without the
rest of the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(entry_hash_hex: str) -> bytes:
    """An entry's leaf: its hash (see the module docstring for why it is not hashed again)."""
    return bytes.fromhex(entry_hash_hex)


def parent(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Tree:
    """All levels of the tree, built once, so that many proofs cost a walk each."""

    def __init__(self, entry_hashes: Sequence[str]) -> None:
        self.size = len(entry_hashes)
        level = [leaf_hash(h) for h in entry_hashes]
        self.levels = [level]
        while len(level) > 1:
            paired = [parent(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])  # the odd node is promoted, as RFC 6962's split gives
            level = paired
            self.levels.append(level)

    @property
    def root(self) -> str:
        if not self.size:
            return hashlib.sha256(b"").hexdigest()
        return self.levels[-1][0].hex()

    def proof(self, index: int) -> list[str]:
        """The audit path of leaf `index`, from the leaf up (RFC 6962 PATH)."""
        if not 0 <= index < self.size:
            raise IndexError(index)
        path = []
        i = index
        for level in self.levels[:-1]:
            sibling = i - 1 if i % 2 else i + 1
            if sibling < len(level):
                path.append(level[sibling].hex())
            i //= 2
        return path


def root(entry_hashes: Sequence[str]) -> str:
    return Tree(entry_hashes).root


def verify_inclusion(
    entry_hash: str, index: int, size: int, path: Sequence[str], root_hex: str
) -> bool:
    """RFC 9162 section 2.1.3.2: recompute the root from one leaf and its audit path."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    node = leaf_hash(entry_hash)
    for sibling_hex in path:
        sibling = bytes.fromhex(sibling_hex)
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            node = parent(sibling, node)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            node = parent(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node.hex() == root_hex


class Accumulator:
    """The same root as Tree, from leaves given one at a time, in O(log n) memory: a stack of
    perfect subtrees, merged like a binary counter, folded right to left at the end."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (leaves under it, hash)

    def add(self, entry_hash_hex: str) -> None:
        size, node = 1, leaf_hash(entry_hash_hex)
        stack = self._stack
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, node = left_size + size, parent(left, node)
        stack.append((size, node))
        self.size += 1

    @property
    def root(self) -> str:
        if not self._stack:
            return hashlib.sha256(b"").hexdigest()
        node = self._stack[-1][1]
        for _size, left in reversed(self._stack[:-1]):
            node = parent(left, node)
        return node.hex()


class AlignedBuilder:
    """Leaves from global position `start` on, folded into the aligned perfect subtrees they
    fill. Pieces of one tree built apart (by parallel workers) join with root_from_blocks()."""

    def __init__(self, start: int) -> None:
        self.next = start
        self.blocks: list[tuple[int, int, bytes]] = []  # (position, size, hash)

    def add_leaf(self, leaf: bytes) -> None:
        blocks = self.blocks
        position, size, node = self.next, 1, leaf
        while blocks and blocks[-1][1] == size and blocks[-1][0] % (2 * size) == 0:
            left_position, _size, left = blocks.pop()
            position, size, node = left_position, size * 2, parent(left, node)
        blocks.append((position, size, node))
        self.next += 1


def root_from_blocks(blocks: Sequence[tuple[int, int, bytes]]) -> tuple[int, str]:
    """(leaves covered, root) of a tree from its aligned blocks, which must tile 0..n; the
    root is "" when they leave a gap."""
    stack: list[tuple[int, bytes]] = []
    expected = 0
    for position, size, node in sorted(blocks, key=lambda b: b[0]):
        if position != expected:  # a gap: no root; the count tells the caller what is there
            return sum(block[1] for block in blocks), ""
        expected += size
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, node = left_size + size, parent(left, node)
        stack.append((size, node))
    if not stack:
        return 0, hashlib.sha256(b"").hexdigest()
    node = stack[-1][1]
    for _size, left in reversed(stack[:-1]):
        node = parent(left, node)
    return expected, node.hex()
