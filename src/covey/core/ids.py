"""Public identifiers for URLs and the API.

Database keys stay sequential integers (fast joins, compact indexes); what leaves the server is a
random, prefixed id such as ``opp_4k7qz0m2x9ab``, so nobody can count records or walk to a
neighbour's by adding one.
"""

from __future__ import annotations

import random
import secrets

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
