"""A Merkle tree over entry hashes, as in RFC 6962 (Certificate Transparency), section 2.1.

Leaves are hashed with a 0x00 prefix and inner nodes with 0x01, so a leaf can never pass for a
node. An inclusion proof lets anyone holding one entry and a signed checkpoint check that the
entry is among those the checkpoint sealed, without the rest of the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(entry_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).digest()


def _node(left: bytes, right: bytes) -> bytes:
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
            paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
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
            node = _node(sibling, node)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            node = _node(node, sibling)
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
            size, node = left_size + size, _node(left, node)
        stack.append((size, node))
        self.size += 1

    @property
    def root(self) -> str:
        if not self._stack:
            return hashlib.sha256(b"").hexdigest()
        node = self._stack[-1][1]
        for _size, left in reversed(self._stack[:-1]):
            node = _node(left, node)
        return node.hex()
