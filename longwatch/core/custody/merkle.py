"""The Merkle tree of RFC 9162 (Certificate Transparency v2), section 2.1.

Why our own code: the algorithms are short, exactly specified, and a court's
expert must be able to read them next to the RFC. Leaves are
``SHA-256(0x00 || entry)``, interior nodes ``SHA-256(0x01 || left || right)``;
a tree of ``n`` leaves splits at the largest power of two smaller than ``n``.

:class:`MerkleTree` keeps every complete (perfect, aligned) subtree hash, level
by level in flat byte arrays, so any inclusion or consistency proof is built
from at most O(log² n) cached hashes instead of rehashing the leaves.
:class:`Frontier` keeps only the O(log n) hashes needed to append and to
compute the root, which is all the append path needs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The roots of the perfect subtrees that make up a tree of ``size`` leaves, left to right."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ValueError("a frontier holds one hash per set bit of its size")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> None:
        self.hashes.append(leaf)
        size = self.size
        while size & 1:  # like a binary counter: merge equal-sized subtrees
            right = self.hashes.pop()
            left = self.hashes.pop()
            self.hashes.append(node_hash(left, right))
            size >>= 1
        self.size += 1

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            result = node_hash(left, result)
        return result

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes)


class MerkleTree:
    """An append-only tree with every complete subtree hash cached, for fast proofs."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.levels: list[bytearray] = [bytearray()]
        self.size = 0
        for leaf in leaves:
            self.append(leaf)

    def append(self, leaf: bytes) -> None:
        levels = self.levels
        levels[0] += leaf
        index = self.size
        level = 0
        while index & 1:
            if len(levels) <= level + 1:
                levels.append(bytearray())
            buf = levels[level]
            start = (index - 1) * HASH_SIZE
            levels[level + 1] += hashlib.sha256(b"\x01" + buf[start : start + 2 * HASH_SIZE]).digest()
            index >>= 1
            level += 1
        self.size += 1

    def leaf(self, index: int) -> bytes:
        return bytes(self.levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _node(self, level: int, index: int) -> bytes:
        return bytes(self.levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def subtree_hash(self, start: int, count: int) -> bytes:
        """MTH of leaves [start, start + count), start aligned as RFC 9162's recursion aligns it."""
        if count == 0:
            return EMPTY_ROOT
        if count & (count - 1) == 0 and start % count == 0:
            return self._node(count.bit_length() - 1, start // count)
        k = _largest_power_of_two_below(count)
        return node_hash(self.subtree_hash(start, k), self.subtree_hash(start + k, count - k))

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if size > self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return self.subtree_hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(m, D[n]) of RFC 9162 2.1.3.1, leaf side first."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"no leaf {index} in a tree of {size}")
        path: list[bytes] = []
        start, n, m = 0, size, index
        while n > 1:
            k = _largest_power_of_two_below(n)
            if m < k:
                path.append(self.subtree_hash(start + k, n - k))
                n = k
            else:
                path.append(self.subtree_hash(start, k))
                start, n, m = start + k, n - k, m - k
        path.reverse()
        return path

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(m, D[n]) of RFC 9162 2.1.4.1 for 0 < first <= second."""
        second = self.size if second is None else second
        if not 0 < first <= second <= self.size:
            raise ValueError(f"no consistency proof from {first} to {second}")
        proof: list[bytes] = []
        start, n, m, complete = 0, second, first, True
        while m != n:
            k = _largest_power_of_two_below(n)
            if m <= k:
                proof.append(self.subtree_hash(start + k, n - k))
                n = k
            else:
                proof.append(self.subtree_hash(start, k))
                start, n, m, complete = start + k, n - k, m - k, False
        if not complete:
            proof.append(self.subtree_hash(start, n))
        proof.reverse()
        return proof


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2, step by step."""
    if index >= size or index < 0:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2, step by step (equal sizes need an empty proof and equal roots)."""
    if first <= 0 or first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
