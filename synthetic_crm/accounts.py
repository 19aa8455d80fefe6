"""The company's accounts: when each was created, the customer it belongs to (with the
duplicates a real CRM collects), its name and website, and what it does over its life."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic_crm.catalog import choose_owner
from synthetic_crm.sampling import business_seconds, gather, pick, sample_at_least
from synthetic_crm.timeline import DAY_SECONDS, NEVER, Calendar, window_day

# fmt: off
# Company names are brand + industry (+ region), a bijection of the customer number, so two
# customers never share a name or domain by accident: duplicates are only the planted ones.
# (Heads are 3 letters and middles 2, so the concatenated brand splits back unambiguously.)
BRAND_HEADS = (
    "Zen", "Kor", "Val", "Tal", "Mer", "Nov", "Sol", "Tor", "Ver", "Lum", "Bel", "Cal", "Dar",
    "Fen", "Gal", "Hal", "Jor", "Kel", "Lir", "Mav", "Nex", "Pol", "Quo", "Ral", "Sen", "Tiv",
    "Vor", "Wen", "Xal", "Yar",
)
BRAND_MIDDLES = (
    "ab", "ex", "io", "on", "ar", "ia", "or", "um", "ix", "eo", "ra", "us", "yn", "el", "ic",
    "ov", "an", "en", "is", "ul",
)
BRAND_TAILS = ("", "tra", "vo", "ri", "mo", "ta", "la", "ne", "dex", "ton")
INDUSTRIES = (
    "Labs", "Systems", "Analytics", "Health", "Logistics", "Foods", "Energy", "Media",
    "Robotics", "Finance", "Software", "Networks", "Biotech", "Capital", "Retail", "Motors",
    "Dynamics", "Studios", "Partners", "Cloud", "Works", "Solutions", "Security", "Travel",
    "Learning",
)
REGIONS = (
    "", "Group", "Global", "International", "Holdings", "North America", "Europe", "Digital",
    "Technologies", "Ventures",
)
COUNTRIES = (
    "United States", "United Kingdom", "Germany", "France", "Netherlands", "Spain", "Canada",
    "Australia", "Sweden", "Japan",
)
COUNTRY_WEIGHTS = (0.50, 0.13, 0.09, 0.05, 0.04, 0.03, 0.06, 0.04, 0.03, 0.03)
COUNTRY_CURRENCY = np.array([0, 2, 1, 1, 1, 1, 3, 0, 0, 0])  # index into catalog.CURRENCIES
COUNTRY_TLD = (".com", ".co.uk", ".de", ".fr", ".nl", ".es", ".ca", ".com.au", ".se", ".jp")
COUNTRY_LEGAL_SUFFIX = ("Inc.", "Ltd", "GmbH", "S.A.", "B.V.", "S.A.", "Inc.", "Ltd", "", "")
# Ways people type the same website; all normalise to the bare domain.
WEBSITE_FORMS = (
    "https://www.{}", "www.{}", "{}", "http://{}/", "https://{}",
    # ...and the forms only duplicates use, so a duplicate never matches its original exactly.
    "https://www.{}/about", "HTTP://WWW.{}/", "http://www.{}/contact",
)
# Ways people retype the same company without a website: same name once lowercased,
# punctuation removed and the legal suffix dropped.
NAME_VARIANTS = ("upper_llc", "comma_inc", "ltd", "lower_inc", "gmbh")
# fmt: on

DUPLICATE_NONE, DUPLICATE_BY_DOMAIN, DUPLICATE_BY_NAME, DUPLICATE_MERGED = range(4)
NO_DEALS, PROSPECT, CUSTOMER = range(3)


@dataclass(frozen=True)
class _Duplicates:
    """Which accounts are planted duplicates, and of which original account."""

    kind: np.ndarray  # DUPLICATE_* per account
    original: np.ndarray  # the original account (itself for an original)
    originals: np.ndarray  # the non-duplicate accounts, in creation order
    earlier_originals: np.ndarray  # per account, how many originals were created before it
    name_copied: np.ndarray  # an original some duplicate retyped by name
    domain_copied: np.ndarray  # an original some duplicate shares a domain with


def accounts(
    rng: np.random.Generator, n: int, calendar: Calendar, team: dict
) -> dict[str, np.ndarray]:
    """Accounts in creation order (Ids increase with CreatedDate), with planted duplicates."""
    created_ts = _creation_times(rng, n, calendar)
    created_day = created_ts // DAY_SECONDS
    duplicates = _planted_duplicates(rng, n)
    duplicate, original = duplicates.kind, duplicates.original
    is_duplicate = duplicate != DUPLICATE_NONE

    has_website = rng.random(n) < 0.85
    has_website[duplicates.name_copied] = False
    has_website[duplicates.domain_copied] = True
    has_website[duplicate == DUPLICATE_BY_DOMAIN] = True
    has_website[duplicate == DUPLICATE_BY_NAME] = False

    identity = _company_identity(rng, original)
    country = pick(rng, n, COUNTRY_WEIGHTS)
    country = country[original]  # duplicates share the original's country
    parent = _parents(rng, duplicates)
    is_deleted = _merged_and_deleted(rng, duplicate)
    lifecycle = _lifecycles(rng, created_day > calendar.first, is_duplicate)
    deleted_day = _deleted_in_window(rng, calendar, lifecycle, parent, duplicates, created_day)

    return {
        "created_ts": created_ts,
        "created_day": created_day,
        "deleted_day": deleted_day,
        "duplicate": duplicate,
        "original": original,
        "has_website": has_website,
        "website_form": np.where(
            duplicate == DUPLICATE_BY_DOMAIN,
            rng.integers(5, len(WEBSITE_FORMS), size=n),
            rng.integers(0, 5, size=n),
        ),
        "name_variant": rng.integers(len(NAME_VARIANTS), size=n),
        **identity,
        "country": country,
        "has_country": rng.random(n) >= 0.03,
        "currency": COUNTRY_CURRENCY[country],
        "parent": parent,
        "master": np.where(duplicate == DUPLICATE_MERGED, original, -1),
        "is_deleted": is_deleted,
        "owner": choose_owner(rng, team, n),
        "csm": np.where(rng.random(n) < 0.75, choose_owner(rng, team, n, 0.03), -1),
        "lifecycle": lifecycle,
    }


def _creation_times(rng: np.random.Generator, n: int, calendar: Calendar) -> np.ndarray:
    """Creation seconds, sorted: a growing company, more accounts recently, and a few
    created on each window day."""
    window_new = 0
    if calendar.days > 1:
        window_new = min(n // 4, max(calendar.days - 1, round(n * 0.0012 * (calendar.days - 1))))
    history = n - window_new
    span_seconds = (calendar.first + 1 - calendar.history_start) * DAY_SECONDS
    history_ts = (
        calendar.history_start * DAY_SECONDS
        + (rng.random(history) ** 0.8 * span_seconds).astype(np.int64) // 60 * 60
    )
    window = calendar.first + 1 + np.arange(window_new) % max(calendar.days - 1, 1)
    window_ts = window * DAY_SECONDS + business_seconds(rng, window_new)
    return np.sort(np.concatenate([history_ts, window_ts]))


def _planted_duplicates(rng: np.random.Generator, n: int) -> _Duplicates:
    """Duplicates point at an earlier, non-duplicate "original" account of the same
    customer; every kind shows up at least twice once there are 30 accounts."""
    index = np.arange(n)
    duplicate = pick(rng, n, [0.945, 0.025, 0.015, 0.015])
    duplicate[:10] = DUPLICATE_NONE
    if n >= 30:
        for kind in (DUPLICATE_BY_DOMAIN, DUPLICATE_BY_NAME, DUPLICATE_MERGED):
            missing = 2 - np.count_nonzero(duplicate == kind)
            if missing > 0:
                free = np.flatnonzero((duplicate == DUPLICATE_NONE) & (index >= 10))
                duplicate[rng.choice(free, size=missing, replace=False)] = kind
    originals = np.flatnonzero(duplicate == DUPLICATE_NONE)
    is_duplicate = duplicate != DUPLICATE_NONE
    earlier_originals = np.searchsorted(originals, index)  # originals created before each
    original = index.copy()
    picked = (rng.random(n) * earlier_originals).astype(np.int64)
    original[is_duplicate] = originals[picked[is_duplicate]]
    # An original copied by name must have no website, one copied by domain must have one;
    # when both happened to pick the same original, the domain copy becomes a name copy.
    name_copied = np.zeros(n, dtype=bool)
    name_copied[original[duplicate == DUPLICATE_BY_NAME]] = True
    duplicate[(duplicate == DUPLICATE_BY_DOMAIN) & name_copied[original]] = DUPLICATE_BY_NAME
    domain_copied = np.zeros(n, dtype=bool)
    domain_copied[original[duplicate == DUPLICATE_BY_DOMAIN]] = True
    return _Duplicates(
        duplicate, original, originals, earlier_originals, name_copied, domain_copied
    )


def _company_identity(rng: np.random.Generator, original: np.ndarray) -> dict[str, np.ndarray]:
    """Brand, industry and region codes of the customer (shared by its duplicates)."""
    combos = (
        len(BRAND_HEADS) * len(BRAND_MIDDLES) * len(BRAND_TAILS) * len(INDUSTRIES) * len(REGIONS)
    )
    customer_number = (original * 1_000_003 + int(rng.integers(combos))) % combos
    digits = customer_number
    parts = {}
    vocabularies = {
        "head": BRAND_HEADS,
        "middle": BRAND_MIDDLES,
        "tail": BRAND_TAILS,
        "industry": INDUSTRIES,
        "region": REGIONS,
    }
    for part, vocabulary in vocabularies.items():
        parts[part] = digits % len(vocabulary)
        digits = digits // len(vocabulary)
    parts["overflow"] = original // combos  # beyond 1.5M customers a numeral keeps names unique
    return parts


def _parents(rng: np.random.Generator, duplicates: _Duplicates) -> np.ndarray:
    """A parent account (an earlier original) for about 3% of originals, else -1."""
    n = duplicates.kind.size
    parent = np.full(n, -1)
    has_parent = (duplicates.kind == DUPLICATE_NONE) & (np.arange(n) >= 10) & (rng.random(n) < 0.03)
    has_parent_ids = np.flatnonzero(has_parent)
    parent[has_parent_ids] = duplicates.originals[
        (rng.random(has_parent_ids.size) * duplicates.earlier_originals[has_parent_ids]).astype(
            np.int64
        )
    ]
    return parent


def _merged_and_deleted(rng: np.random.Generator, duplicate: np.ndarray) -> np.ndarray:
    """IsDeleted: most merged records are flagged deleted, some are not."""
    merged = np.flatnonzero(duplicate == DUPLICATE_MERGED)
    is_deleted = np.zeros(duplicate.size, dtype=bool)
    is_deleted[merged] = rng.random(merged.size) < 0.6
    if merged.size >= 2:  # both kinds of merged record: flagged deleted and not
        is_deleted[merged[0]], is_deleted[merged[1]] = True, False
    return is_deleted


def _lifecycles(
    rng: np.random.Generator, in_window: np.ndarray, is_duplicate: np.ndarray
) -> np.ndarray:
    """What the account does over its life: nothing, buys nothing, or becomes a customer."""
    n = in_window.size
    lifecycle = pick(rng, n, [0.12, 0.18, 0.70])
    lifecycle = np.where(is_duplicate, pick(rng, n, [0.3, 0.3, 0.4]), lifecycle)
    return np.where(in_window, pick(rng, n, [0.4, 0.6, 0.0]), lifecycle)


def _deleted_in_window(
    rng: np.random.Generator,
    calendar: Calendar,
    lifecycle: np.ndarray,
    parent: np.ndarray,
    duplicates: _Duplicates,
    created_day: np.ndarray,
) -> np.ndarray:
    """A few accounts without deals or dependants are deleted during the window."""
    n = lifecycle.size
    deleted_day = np.full(n, NEVER)
    if calendar.days > 1:
        is_duplicate = duplicates.kind != DUPLICATE_NONE
        referenced = np.zeros(n, dtype=bool)
        referenced[parent[parent >= 0]] = True
        referenced[duplicates.original[is_duplicate]] = True
        candidates = np.flatnonzero(
            (lifecycle == NO_DEALS) & ~referenced & ~is_duplicate & (created_day < calendar.first)
        )
        gone = sample_at_least(rng, candidates, 0.004 * (calendar.days - 1))
        deleted_day[gone] = window_day(rng, calendar, gone.size)
    return deleted_day


def account_frame(acc: dict[str, np.ndarray]) -> pl.DataFrame:
    """Account names and websites as strings, built column-wise with polars."""
    frame = pl.DataFrame(
        {
            "row": np.arange(acc["head"].size),
            "head": gather(BRAND_HEADS, acc["head"]),
            "middle": gather(BRAND_MIDDLES, acc["middle"]),
            "tail": gather(BRAND_TAILS, acc["tail"]),
            "industry": gather(INDUSTRIES, acc["industry"]),
            "region": gather(REGIONS, acc["region"]),
            "overflow": acc["overflow"],
            "legal": gather(COUNTRY_LEGAL_SUFFIX, acc["country"]),
            "tld": gather(COUNTRY_TLD, acc["country"]),
            "duplicate": acc["duplicate"],
            "variant": gather(NAME_VARIANTS, acc["name_variant"]),
            "form": acc["website_form"],
            "has_website": acc["has_website"],
        }
    )
    return frame.with_columns(base=_base_name(), domain=_domain()).select(
        "row",
        pl.when(pl.col("duplicate").is_in([DUPLICATE_BY_NAME, DUPLICATE_MERGED]))
        .then(_retyped_name())
        .otherwise(_original_name())
        .alias("Name"),
        pl.col("base").alias("short_name"),
        pl.when(pl.col("has_website")).then(_website()).alias("Website"),
    )


def _base_name() -> pl.Expr:
    """Brand, industry, region and (past 1.5M customers) a numeral: "Zenabtra Labs Group"."""
    numeral = (
        pl.when(pl.col("overflow") > 0)
        .then(pl.lit(" ") + pl.col("overflow").cast(pl.String))
        .otherwise(pl.lit(""))
    )
    return (
        pl.concat_str("head", "middle", "tail")
        + pl.lit(" ")
        + pl.col("industry")
        + pl.when(pl.col("region") != "").then(pl.lit(" ") + pl.col("region")).otherwise(pl.lit(""))
        + numeral
    )


def _domain() -> pl.Expr:
    """The customer's bare domain: the name's parts lowercased, the country's TLD."""
    return (
        pl.concat_str("head", "middle", "tail", "industry").str.to_lowercase()
        + pl.col("region").str.replace_all(" ", "").str.to_lowercase()
        + pl.col("overflow").cast(pl.String).replace("0", "")
        + pl.col("tld")
    )


def _original_name() -> pl.Expr:
    """The base name with the country's legal suffix, as the original account has it."""
    return (
        pl.when(pl.col("legal") != "")
        .then(pl.col("base") + pl.lit(" ") + pl.col("legal"))
        .otherwise(pl.col("base"))
    )


def _retyped_name() -> pl.Expr:
    """The same company retyped by someone else (a duplicate found by name)."""
    return (
        pl.when(pl.col("variant") == "upper_llc")
        .then(pl.col("base").str.to_uppercase() + pl.lit(", LLC"))
        .when(pl.col("variant") == "comma_inc")
        .then(pl.col("base") + pl.lit(", Inc"))
        .when(pl.col("variant") == "ltd")
        .then(pl.col("base") + pl.lit(" Ltd."))
        .when(pl.col("variant") == "lower_inc")
        .then(pl.col("base").str.to_lowercase() + pl.lit(" inc"))
        .otherwise(pl.col("base") + pl.lit(" GmbH"))
    )


def _website() -> pl.Expr:
    """The domain written in the account's website form."""
    website = pl.lit(None, dtype=pl.String)
    for code, form in enumerate(WEBSITE_FORMS):
        prefix, suffix = form.split("{}")
        value = pl.lit(prefix) + pl.col("domain") + pl.lit(suffix)
        if form.startswith("HTTP"):  # typed in capitals, domain included
            value = pl.lit(prefix) + pl.col("domain").str.to_uppercase() + pl.lit(suffix)
        website = pl.when(pl.col("form") == code).then(value).otherwise(website)
    return website
