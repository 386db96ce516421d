"""Handing freed memory back to the system, for the fingerprint mode where memory is the point.

glibc's malloc keeps what a program frees. It serves a block of at least the mmap threshold
(128 KiB) from its own mapping, unmapped when freed, but it raises that threshold to the size of
each such block freed (up to 32 MiB), after which the arrays of a search (tables, columns of a
level) come from the heap, where a level's freed blocks stay resident between the blocks still
in use. `fix_mmap_threshold` pins the threshold at 4 MiB, so big arrays go back when freed;
`trim` returns the free pages in the heap. (At glibc's initial 128 KiB, every temporary array of
a level's bookkeeping was a fresh mapping whose pages faulted in one by one: TwoPhase rms=8 with
fingerprints spent 7% of its time in the kernel, now 2%.) Elsewhere (another C library or system) both do nothing.
"""

from __future__ import annotations

from typing import Any

MMAP_THRESHOLD = 4 << 20  # blocks from this size on are mappings of their own (glibc starts at 128 KiB)
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
_libc: Any = None


def _glibc() -> Any:
    global _libc
    if _libc is None:
        _libc = False
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            libc.mallopt, libc.malloc_trim  # noqa: B018 - glibc has both
            _libc = libc
        except (OSError, AttributeError):
            pass
    return _libc


def fix_mmap_threshold() -> None:
    libc = _glibc()
    if libc:
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def trim() -> None:
    libc = _glibc()
    if libc:
        libc.malloc_trim(0)
