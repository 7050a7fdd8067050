"""Bit-packing: the one convention every binary tensor follows.

Channels are packed along the last axis into int32 words: channel ``c`` is bit
``c % 32`` (least significant bit first) of word ``c // 32``; bit 1 means -1 and
bit 0 means +1; the unused high bits of the last word are 0 (spec lce-ops.md §3).

Example:
    >>> import numpy as np
    >>> pack_bits(np.array([[False, True, False, False, True]]))
    array([[18]], dtype=int32)
    >>> unpack_bits(np.array([[18]], dtype=np.int32), 5).astype(int)
    array([[0, 1, 0, 0, 1]])
"""

from __future__ import annotations

import numpy as np

__all__ = ["n_words", "pack_bits", "unpack_bits"]


def n_words(channels: int) -> int:
    """``ceil(channels / 32)``: the number of int32 words that hold ``channels`` bits."""
    return -(-int(channels) // 32)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Packs a boolean array ``[..., C]`` (True = -1) into int32 words ``[..., ceil(C/32)]``."""
    bits = np.asarray(bits, dtype=bool)
    channels = bits.shape[-1]
    words = n_words(channels)
    if words * 32 != channels:
        pad = np.zeros(bits.shape[:-1] + (words * 32 - channels,), dtype=bool)
        bits = np.concatenate([bits, pad], axis=-1)
    packed = np.packbits(bits, axis=-1, bitorder="little")  # [..., 4 * words] bytes
    return np.ascontiguousarray(packed).view("<i4").astype(np.int32, copy=False)


def unpack_bits(words: np.ndarray, channels: int) -> np.ndarray:
    """Unpacks int32 words ``[..., P]`` to booleans ``[..., channels]`` (True = -1).

    Padding bits beyond ``channels`` are ignored."""
    words = np.ascontiguousarray(np.asarray(words, dtype="<i4"))
    as_bytes = words.view(np.uint8)  # little-endian: channel 0 is bit 0 of byte 0
    bits = np.unpackbits(as_bytes, axis=-1, bitorder="little", count=channels)
    return bits.view(bool)
