"""Which checkpoint sealed an entry, and the Merkle inclusion proof that shows it.

With the entry's canonical JSON, the checkpoint's signed statement and the agency's public
key, anyone can check a proof offline (evidence/offline.py) without the rest of the log.
Certificates print one proof; exports carry one per entry.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from evidence import merkle
from evidence.actions import covered_entries
from evidence.models import Checkpoint, Event


class ProofError(RuntimeError):
    """The log does not add up (a checkpoint's root cannot be recomputed): nothing may be
    certified from it. verify_evidence tells what is wrong."""


@dataclass(frozen=True)
class InclusionProof:
    checkpoint: Checkpoint
    """The checkpoint that sealed the entry; the proof checks against its Merkle root."""
    index: int  # the entry's position among the checkpoint's leaves
    size: int  # how many leaves the checkpoint sealed
    path: list[str]  # audit path, leaf to root

    def as_dict(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint.number,
            "index": self.index,
            "size": self.size,
            "path": self.path,
        }


def _head_seq(checkpoint: Checkpoint, lane: int) -> int:
    head = checkpoint.body["heads"].get(str(lane))
    return int(head["seq"]) if head else 0


def sealing_checkpoint(entry: Event, latest: Checkpoint | None) -> Checkpoint | None:
    """The first checkpoint that sealed `entry`, or None if `latest` does not seal it yet.

    Lane heads only grow from one checkpoint to the next, so a binary search over the
    checkpoint numbers finds it in a few reads.
    """
    if latest is None or _head_seq(latest, entry.lane) < entry.seq:
        return None
    numbers = list(
        Checkpoint.objects.filter(number__lte=latest.number)
        .order_by("number")
        .values_list("number", flat=True)
    )
    loaded: dict[int, Checkpoint] = {latest.number: latest}

    def seals(i: int) -> bool:
        number = numbers[i]
        if number not in loaded:
            loaded[number] = Checkpoint.objects.get(number=number)
        return _head_seq(loaded[number], entry.lane) >= entry.seq

    found = bisect.bisect_left(range(len(numbers)), True, key=seals)
    return loaded[numbers[found]]


def proofs(entries: Iterable[Event], latest: Checkpoint | None = None) -> dict[int, InclusionProof]:
    """Proofs for the entries a checkpoint (up to `latest`, default the newest) has sealed,
    by entry id; later entries are left out (seal first to cover them). One Merkle tree is
    built per checkpoint involved, and its root must recompute."""
    if latest is None:
        latest = Checkpoint.objects.order_by("-number").first()
    by_checkpoint: dict[int, tuple[Checkpoint, list[Event]]] = {}
    for entry in entries:
        checkpoint = sealing_checkpoint(entry, latest)
        if checkpoint is not None:
            by_checkpoint.setdefault(checkpoint.number, (checkpoint, []))[1].append(entry)
    found: dict[int, InclusionProof] = {}
    for checkpoint, sealed in by_checkpoint.values():
        body = checkpoint.body
        leaves = covered_entries(body["since"], body["heads"])
        positions = {(lane, seq): i for i, (lane, seq, _hash) in enumerate(leaves)}
        tree = merkle.Tree([entry_hash for _lane, _seq, entry_hash in leaves])
        if tree.root != checkpoint.merkle_root:
            raise ProofError(f"checkpoint #{checkpoint.number} does not recompute")
        for entry in sealed:
            index = positions.get((entry.lane, entry.seq))
            if index is None or leaves[index][2] != entry.hash:
                raise ProofError(
                    f"checkpoint #{checkpoint.number} does not hold entry {entry.position}"
                )
            found[entry.pk] = InclusionProof(checkpoint, index, tree.size, tree.proof(index))
    return found


def inclusion_proof(entry: Event, checkpoint: Checkpoint) -> InclusionProof:
    """The audit path of `entry` in the tree of `checkpoint`, which must seal it."""
    found = proofs([entry], checkpoint).get(entry.pk)
    if found is None or found.checkpoint.number != checkpoint.number:
        raise ProofError(f"checkpoint #{checkpoint.number} does not seal entry {entry.position}")
    return found
