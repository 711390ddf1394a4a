"""The peer of ``covey bench mapping``: the same two lists linked with Splink on DuckDB.

Splink (the UK Ministry of Justice's Fellegi–Sunter record-linkage library) is configured as a
competent user would for company data:

- **Inputs**: the same cleaned columns Covey matches on — normalised name, its first word, the
  first usable domain and all of them, country code, folded city, phone digits — produced by
  Covey's own normalisation, whose time is counted in the peer's seconds (``prepare``). One Splink
  record per input row; rows are mapped back to account ids afterwards, as for Covey.
- **Blocking** (prediction): same domain; same name; same first name word and country; same phone.
- **Comparisons**: name with exact / Jaro-Winkler ≥ 0.95 / 0.88 / 0.80 levels and term-frequency
  adjustment of the exact level (common names weigh less); domains exact or overlapping; country,
  city (term-frequency adjusted) and phone exact; nulls neutral.
- **Training**: the prior from deterministic rules (same domain; same name and country, recall
  0.8), u by random sampling of ``max_pairs`` pairs — 1e7 by default, the figure Splink's own
  documentation calls "often adequate" (its default 1e6 is faster and slightly less accurate:
  ``covey bench mapping --peer-u-pairs 1e6``) — and m by expectation maximisation twice, blocked on
  domain (trains the rest) and on name and country (trains domain, city, phone).
- **Prediction**: ``link_only`` between the two lists, match probability ≥ 0.9.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import polars as pl

from covey.mapping.engine import MatchOptions, _prepare, _usable_domains, accounts_frame


@dataclass
class PeerResult:
    matches: pl.DataFrame  # our_id, their_id
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    predicted_pairs: int = 0


def _records(rows: pl.DataFrame, domains: pl.DataFrame) -> pl.DataFrame:
    per_account = domains.group_by("acct").agg(usable=pl.col("domain").sort())
    return (
        rows.join(per_account, on="acct", how="left")
        .select(
            unique_id=pl.col("row").cast(pl.Int64),
            name=pl.when(pl.col("name_key") != "").then(pl.col("name_key")),
            name_word=pl.when(pl.col("name_key") != "").then(pl.col("name_key").str.split(" ").list.first()),
            domain=pl.col("usable").list.first(),
            domains=pl.col("usable"),
            country=pl.col("country_key"),
            city=pl.col("city_key"),
            phone=pl.col("phone_key"),
        )
    )


U_MAX_PAIRS = 1e7


def run_splink(ours: pl.DataFrame, theirs: pl.DataFrame, *, threshold: float = 0.9,
               max_pairs: float = U_MAX_PAIRS) -> PeerResult:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    stages: dict[str, float] = {}
    started = last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        stages[name] = round(now - last, 3)
        last = now

    rows_o, rows_t, pieces_o, pieces_t, _normalised = _prepare(accounts_frame(ours), accounts_frame(theirs))
    domains_o, domains_t, _ = _usable_domains(pieces_o, pieces_t, MatchOptions())
    records_o, records_t = _records(rows_o, domains_o), _records(rows_t, domains_t)
    lap("prepare")

    db = DuckDBAPI()
    left = db.register(records_o.to_arrow(), dataset_display_name="ours")
    right = db.register(records_t.to_arrow(), dataset_display_name="theirs")
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.80]).configure(term_frequency_adjustments=True),
            cl.ArrayIntersectAtSizes("domains", [1]),
            cl.ExactMatch("country"),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("domain"),
            block_on("name"),
            block_on("name_word", "country"),
            block_on("phone"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker([left, right], settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("domain"), block_on("name", "country")], recall=0.8,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("domain"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name", "country"))
    lap("train")
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    pairs = pl.from_arrow(predictions.as_pyarrow_table())
    lap("predict")
    # Splink puts either list on the left; orient every pair as (ours, theirs).
    pairs = pairs.select("source_dataset_l", "unique_id_l", "source_dataset_r", "unique_id_r")
    oriented = pl.concat([
        pairs.filter(pl.col("source_dataset_l") == "ours").select(row_o="unique_id_l", row_t="unique_id_r"),
        pairs.filter(pl.col("source_dataset_l") != "ours").select(row_o="unique_id_r", row_t="unique_id_l"),
    ])
    ids_o = rows_o.select(row_o=pl.col("row").cast(pl.Int64), our_id="id")
    ids_t = rows_t.select(row_t=pl.col("row").cast(pl.Int64), their_id="id")
    matches = oriented.join(ids_o, on="row_o").join(ids_t, on="row_t").select("our_id", "their_id").unique()
    lap("select")
    return PeerResult(matches=matches, seconds=round(time.perf_counter() - started, 3), stages=stages,
                      predicted_pairs=pairs.height)
