"""Public identifiers for URLs and the API.

Database keys stay sequential integers (fast joins, compact indexes); what leaves the server is a
random, prefixed id such as ``opp_4k7qz0m2x9ab``, so nobody can count records or walk to a
neighbour's by adding one.
"""

from __future__ import annotations

import random
import secrets
from hashlib import blake2b as _blake2b

from django.db import models

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: no i, l, o, u
LENGTH = 12


def new_public_id(prefix: str, rng: random.Random | None = None) -> str:
    """A fresh id; pass a seeded ``rng`` only for deterministic generated data."""
    choice = rng.choice if rng is not None else secrets.choice
    return f"{prefix}_" + "".join(choice(ALPHABET) for _ in range(LENGTH))


class PublicIdField(models.CharField):
    """A unique, indexed public id generated on creation with the given prefix."""

    def __init__(self, *args, prefix: str = "", **kwargs):
        self.prefix = prefix
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["prefix"] = self.prefix
        for key, default in (("max_length", 24), ("unique", True), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if not value:
            value = new_public_id(self.prefix)
            setattr(model_instance, self.attname, value)
        return value


def assign_public_id(obj: models.Model) -> str:
    """Give an unsaved instance its public id now (as saving would), for rows written alongside it
    that must name it (its audit record, a link in a notification)."""
    field = next(f for f in obj._meta.concrete_fields if isinstance(f, PublicIdField))
    return field.pre_save(obj, True)


def new_public_ids(prefix: str, count: int) -> list[str]:
    """``count`` fresh ids at once, for bulk inserts (one ``secrets`` call instead of twelve per id).

    Each random byte picks one of the 32 letters with its low five bits; 256 is a multiple of 32,
    so every letter is equally likely, exactly as in ``new_public_id``.
    """
    raw = secrets.token_bytes(count * LENGTH)
    letters = "".join(ALPHABET[b & 31] for b in raw)
    return [f"{prefix}_{letters[i:i + LENGTH]}" for i in range(0, count * LENGTH, LENGTH)]


def public_id_column(prefix: str, count: int):
    """``count`` fresh ids as a Polars string column, for set-based inserts of millions of rows.

    Same alphabet and randomness as ``new_public_ids`` (``os.urandom``, five bits a letter), built
    with numpy and Polars instead of a Python loop.
    """
    import os

    import numpy as np
    import polars as pl

    alphabet = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    letters = alphabet[np.frombuffer(os.urandom(count * LENGTH), dtype=np.uint8) & 31]
    words = pl.Series("public_id", letters.reshape(count, LENGTH).view(f"S{LENGTH}").ravel(), dtype=pl.Binary)
    return pl.select(pl.concat_str([pl.lit(f"{prefix}_"), words.cast(pl.Utf8)]).alias("public_id")).to_series()


# --- public ids computed from the primary key ----------------------------------------------------
#
# For tables that take a million rows at a time (the payout ledger), a stored random id costs a
# random insert into a unique index per row, the slowest part of the whole load. Such a table keeps
# no id column: its public id is its integer key run through a keyed permutation (a four-round
# Feistel network over 60 bits, its rounds keyed BLAKE2b with keys derived from SECRET_KEY), in the same
# alphabet. It looks as random as a stored id and cannot be walked or counted without the key.
# Keys stay below 2**40, so the 20 top bits of a decoded id tell a right key from a wrong one (a
# stray or forged id resolves to nothing, except by a one-in-a-million chance, and even then only to
# a row the access checks still guard). Ids made under SECRET_KEY_FALLBACKS still decode, so a
# rotated secret does not break links already sent.

_HALF_BITS = 30
_HALF_MASK = (1 << _HALF_BITS) - 1
_ROUNDS = 4
MAX_ENCODED_KEY = 1 << 40
_KEY_CACHE: dict[tuple, list[list[bytes]]] = {}


def _round_keys(secret: str, prefix: str) -> list[bytes]:
    import hashlib
    import hmac

    return [hmac.new(secret.encode(), f"covey-public-id:{prefix}:{r}".encode(), hashlib.sha256).digest()[:32]
            for r in range(_ROUNDS)]


def _keys_for(prefix: str) -> list[list[bytes]]:
    """Round keys for the current secret first, then for each fallback secret."""
    from django.conf import settings

    secrets_ = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))
    signature = (prefix, secrets_)
    keys = _KEY_CACHE.get(signature)
    if keys is None:
        keys = _KEY_CACHE[signature] = [_round_keys(secret, prefix) for secret in secrets_]
    return keys


def _f(key: bytes, half: int) -> int:
    """The round function: keyed BLAKE2b (a keyed PRF in the standard library, a microsecond a call)."""
    digest = _blake2b(half.to_bytes(4, "big"), key=key, digest_size=4).digest()
    return int.from_bytes(digest, "big") & _HALF_MASK


def _permute(value: int, keys: list[bytes], *, inverse: bool = False) -> int:
    left, right = value >> _HALF_BITS, value & _HALF_MASK
    if inverse:
        for key in reversed(keys):
            left, right = right ^ _f(key, left), left
    else:
        for key in keys:
            left, right = right, left ^ _f(key, right)
    return (left << _HALF_BITS) | right


def encode_id(prefix: str, pk: int) -> str:
    """The public id of row ``pk`` of a table without an id column: ``led_4k7qz0m2x9ab``."""
    if not 0 < pk < MAX_ENCODED_KEY:
        raise ValueError("key out of range for a public id")
    number = _permute(pk, _keys_for(prefix)[0])
    return f"{prefix}_" + "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(LENGTH - 1, -1, -1))


def decode_id(prefix: str, public_id: str) -> int | None:
    """The key behind a public id made by ``encode_id`` (with the current or a fallback secret), or None."""
    head, _, body = (public_id or "").partition("_")
    if head != prefix or len(body) != LENGTH or any(c not in ALPHABET for c in body):
        return None
    number = 0
    for c in body:
        number = (number << 5) | ALPHABET.index(c)
    for keys in _keys_for(prefix):
        pk = _permute(number, keys, inverse=True)
        if 0 < pk < MAX_ENCODED_KEY:
            return pk
    return None
