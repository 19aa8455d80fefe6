"""Tests of the synthetic CRM snapshot generator (SPEC §2 objects, §7 synthetic data)."""

from __future__ import annotations

import ast
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from dagster_project.lib.crm_schema import OBJECTS
from synthetic_crm import DEFAULT_END_DATE, generate

REPO = Path(__file__).resolve().parents[1]
# The canonical export the generator writes: every object ingest declares (SPEC §2) but
# PricebookEntry, which only serves Data Export line items (they lack Product2Id).
EXPORTED = tuple(o for o in OBJECTS if o.name != "PricebookEntry")
# (object, field) -> referenced object
REFERENCES = {
    ("Account", "ParentId"): "Account",
    ("Account", "MasterRecordId"): "Account",
    ("Account", "OwnerId"): "User",
    ("Account", "CSM__c"): "User",
    ("Opportunity", "AccountId"): "Account",
    ("Opportunity", "OwnerId"): "User",
    ("OpportunityLineItem", "OpportunityId"): "Opportunity",
    ("OpportunityLineItem", "Product2Id"): "Product2",
    ("OpportunityLineItemSchedule", "OpportunityLineItemId"): "OpportunityLineItem",
    ("OpportunitySplit", "OpportunityId"): "Opportunity",
    ("OpportunitySplit", "SplitOwnerId"): "User",
    ("OpportunitySplit", "SplitTypeId"): "OpportunitySplitType",
    ("Quote", "OpportunityId"): "Opportunity",
    ("Order", "AccountId"): "Account",
    ("Order", "OpportunityId"): "Opportunity",
    ("Order", "ContractId"): "Contract",
    ("OrderItem", "OrderId"): "Order",
    ("OrderItem", "Product2Id"): "Product2",
    ("Contract", "AccountId"): "Account",
}
ID_PREFIXES = {
    "Account": "001",
    "Opportunity": "006",
    "Product2": "01t",
    "OpportunityLineItem": "00k",
    "OpportunityLineItemSchedule": "00o",
    "User": "005",
    "Order": "801",
    "OrderItem": "802",
    "Contract": "800",
    "Quote": "0Q0",
    "OpportunitySplitType": "149",
    "OpportunitySplit": "04x",
}
STAGES = {"Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}

SAMPLE_ACCOUNTS, SAMPLE_DAYS, SAMPLE_SEED = 400, 5, 11


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("crm")
    generate(SAMPLE_ACCOUNTS, SAMPLE_DAYS, SAMPLE_SEED, out)
    return out


def snapshot_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir())


def read(folder: Path, object_name: str) -> pl.DataFrame:
    """An object's CSV with every column as text, exactly as written."""
    return pl.read_csv(folder / f"{object_name}.csv", infer_schema=False)


def latest(root: Path, object_name: str) -> pl.DataFrame:
    return read(snapshot_folders(root)[-1], object_name)


def as_float(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64)


def normalized_domain(website: pl.Expr) -> pl.Expr:
    return (
        website.str.to_lowercase()
        .str.replace(r"^[a-z]+://", "")
        .str.replace(r"^www\.", "")
        .str.replace(r"/.*$", "")
    )


def normalized_name(name: pl.Expr) -> pl.Expr:
    return (
        name.str.to_lowercase()
        .str.replace_all(r"[^\w\s]", "")
        .str.replace(r"\s+(inc|llc|ltd|gmbh|sa|bv)$", "")
        .str.strip_chars()
    )


# --- shape of the export ---------------------------------------------------------------


def test_one_folder_per_day_ending_at_end_date(sample: Path) -> None:
    folders = snapshot_folders(sample)
    expected = [
        (DEFAULT_END_DATE - timedelta(days=n)).isoformat() for n in reversed(range(SAMPLE_DAYS))
    ]
    assert [f.name for f in folders] == expected
    for folder in folders:
        assert sorted(p.stem for p in folder.glob("*.csv")) == sorted(o.name for o in EXPORTED)


def test_headers_are_the_declared_fields_in_order(sample: Path) -> None:
    for folder in snapshot_folders(sample):
        for crm_object in EXPORTED:
            header = (folder / f"{crm_object.name}.csv").read_text().splitlines()[0]
            assert header.split(",") == [f.name for f in crm_object.fields], (
                folder.name,
                crm_object.name,
            )


def test_required_fields_are_never_empty(sample: Path) -> None:
    for folder in snapshot_folders(sample):
        for crm_object in EXPORTED:
            frame = read(folder, crm_object.name)
            assert frame.height > 0, (folder.name, crm_object.name)
            for field in crm_object.required_fields:
                assert frame[field].null_count() == 0, (folder.name, crm_object.name, field)


# Each declared field type but free text as the canonical export writes it (SPEC §2): a
# pattern every value matches, then the parse the type implies (it raises on a bad value).
FORMATS = {
    "date": (r"^\d{4}-\d{2}-\d{2}$", lambda s: s.str.to_date("%Y-%m-%d")),
    "datetime": (
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
        lambda s: s.str.to_datetime("%Y-%m-%dT%H:%M:%SZ"),
    ),
    "bool": (r"^(true|false)$", lambda s: s.replace_strict({"true": True, "false": False})),
    "number": (r"^-?\d+(\.\d+)?$", lambda s: s.cast(pl.Float64)),
    "rate": (r"^\d+(\.\d+)?$", lambda s: s.cast(pl.Float64)),
    "integer": (r"^\d+$", lambda s: s.cast(pl.Int64)),
    "id": (r"^[0-9A-Za-z]{18}$", lambda s: s),
}


def test_values_fit_their_declared_types(sample: Path) -> None:
    """Ingest's declaration of the export (lib/crm_schema.py) accepts every generated value."""
    for crm_object in EXPORTED:
        frame = latest(sample, crm_object.name)
        for field in crm_object.fields:
            values = frame[field.name].drop_nulls()
            if field.type in FORMATS:
                pattern, parse = FORMATS[field.type]
                assert values.str.contains(pattern).all(), (crm_object.name, field.name)
                parse(values)
            if field.allowed:
                assert set(values) <= set(field.allowed), (crm_object.name, field.name)
        if crm_object.name in ID_PREFIXES:
            ids = frame["Id"]
            assert ids.n_unique() == frame.height
            assert ids.str.starts_with(ID_PREFIXES[crm_object.name]).all()


def assert_references_resolve(root: Path) -> None:
    for folder in snapshot_folders(root):
        for (object_name, field), parent in REFERENCES.items():
            children = read(folder, object_name)[field].drop_nulls()
            parent_ids = read(folder, parent)["Id"]
            dangling = children.filter(~children.is_in(parent_ids.implode()))
            assert dangling.len() == 0, (folder.name, object_name, field, dangling.head(3))


def test_every_reference_resolves_within_its_snapshot(sample: Path) -> None:
    assert_references_resolve(sample)


@pytest.mark.parametrize(("accounts", "days"), [(1, 3), (9, 2), (40, 30)])
def test_tiny_and_long_runs_stay_consistent(tmp_path: Path, accounts: int, days: int) -> None:
    rows = generate(accounts, days, 2, tmp_path)
    assert len(snapshot_folders(tmp_path)) == days and rows["Account"] <= accounts
    assert_references_resolve(tmp_path)


# --- reproducibility and scale ---------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.csv"))}

    generate(60, 3, 5, tmp_path / "a")
    generate(60, 3, 5, tmp_path / "b")
    generate(60, 3, 6, tmp_path / "c")
    first, again, other = files(tmp_path / "a"), files(tmp_path / "b"), files(tmp_path / "c")
    assert first == again
    assert first.keys() == other.keys()
    assert first["2026-11-16/Opportunity.csv"] != other["2026-11-16/Opportunity.csv"]
    assert first["2026-11-16/Account.csv"] != other["2026-11-16/Account.csv"]


def test_row_counts_grow_linearly_with_accounts(tmp_path: Path) -> None:
    counts = {n: generate(n, 1, 3, tmp_path / str(n)) for n in (500, 1000, 2000)}
    for object_name in (
        "Account",
        "Opportunity",
        "OpportunityLineItem",
        "Quote",
        "Order",
        "OrderItem",
        "Contract",
        "OpportunitySplit",
        "User",
    ):
        base = counts[500][object_name]
        assert 1.7 <= counts[1000][object_name] / base <= 2.3, object_name
        assert 3.4 <= counts[2000][object_name] / base <= 4.6, object_name
    assert counts[2000]["Product2"] == counts[500]["Product2"]


def test_rejects_impossible_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="accounts"):
        generate(0, 1, 1, tmp_path)
    with pytest.raises(ValueError, match="days"):
        generate(10, 0, 1, tmp_path)


def test_reports_progress_and_last_snapshot_rows(tmp_path: Path) -> None:
    messages: list[str] = []
    rows = generate(30, 2, 1, tmp_path, end_date=date(2025, 3, 31), progress=messages.append)
    assert len(messages) == 2 * len(EXPORTED)
    assert messages[-1].startswith("2025-03-31 ")
    assert rows["Opportunity"] == latest(tmp_path, "Opportunity").height
    assert [f.name for f in snapshot_folders(tmp_path)] == ["2025-03-30", "2025-03-31"]


# --- believable business content -------------------------------------------------------


def test_products_cover_every_schedule_variant(sample: Path) -> None:
    products = latest(sample, "Product2")
    assert 15 <= products.height <= 25
    assert set(products["Family"]) == {"Platform", "Add-on", "Services", "Support"}
    assert set(products["Charge_Type__c"]) == {"Recurring", "One-Time", "Usage", None}
    assert {"Divide", "Repeat"} <= set(products["RevenueScheduleType"])
    assert {"Divide", "Repeat"} <= set(products["QuantityScheduleType"])
    periods = set(products["RevenueInstallmentPeriod"]) | set(products["QuantityInstallmentPeriod"])
    assert {"Daily", "Weekly", "Monthly", "Quarterly", "Yearly"} <= periods
    assert "151" in set(products["NumberOfRevenueInstallments"])
    assert (products["Exclude_From_Upgrade__c"] == "true").sum() >= 2
    # Every product that can schedule says how.
    can_revenue = products.filter(pl.col("CanUseRevenueSchedule") == "true")
    assert can_revenue["RevenueScheduleType"].null_count() == 0


def test_explicit_schedules_sum_to_their_line(sample: Path) -> None:
    schedules = latest(sample, "OpportunityLineItemSchedule")
    lines = latest(sample, "OpportunityLineItem")
    assert set(schedules["Type"]) == {"Revenue", "Quantity", "Both"}
    scheduled_lines = schedules["OpportunityLineItemId"].n_unique()
    assert 0.01 <= scheduled_lines / lines.height <= 0.06
    totals = schedules.group_by("OpportunityLineItemId", "Type").agg(
        as_float("Revenue").sum().alias("revenue"), as_float("Quantity").sum().alias("quantity")
    )
    checked = totals.join(lines, left_on="OpportunityLineItemId", right_on="Id")
    assert checked.height == totals.height
    by_revenue = checked.filter(pl.col("Type") != "Quantity")
    assert ((by_revenue["revenue"] - by_revenue["TotalPrice"].cast(pl.Float64)).abs() < 0.005).all()
    by_quantity = checked.filter(pl.col("Type") != "Revenue")
    assert (
        (by_quantity["quantity"] - by_quantity["Quantity"].cast(pl.Float64)).abs() < 0.005
    ).all()


def test_opportunities_cover_the_lifecycle(sample: Path) -> None:
    opps = latest(sample, "Opportunity")
    assert set(opps["StageName"]) == STAGES
    assert set(opps["Type"]) == {"New Business", "Existing Business", "Renewal"}
    assert set(opps["Use_Case__c"]) == {"NEW", "REORDER", "UPGRADE", None}
    assert {"USD", "EUR", "GBP"} <= set(opps["CurrencyIsoCode"])
    assert (opps["CurrencyIsoCode"] == "USD").mean() > 0.5
    renewals = opps.filter(pl.col("Type") == "Renewal")
    assert {"Closed Won", "Closed Lost"} <= set(renewals["StageName"])
    assert opps["Probability"].null_count() > 0 and opps["ForecastCategoryName"].null_count() > 0
    assert set(opps["Term_Months__c"].drop_nulls()) == {"12", "24", "36"}
    won = opps.filter(pl.col("IsWon") == "true")
    assert (won["Create_Potential_Subscription__c"] == "true").mean() > 0.8
    existing = won.filter(pl.col("Type") == "Existing Business", pl.col("Use_Case__c").is_null())
    # Implicit use cases: an upgrade has a start date, a reorder has none.
    assert existing["Start_Date__c"].null_count() > 0
    assert existing["Start_Date__c"].null_count() < existing.height
    # The error case: an explicit UPGRADE on an account that never won anything before.
    first_wins = won.sort("CloseDate", "Id").group_by("AccountId").first()
    assert (first_wins["Use_Case__c"] == "UPGRADE").sum() >= 1


def test_stage_flags_probability_and_amounts_agree(sample: Path) -> None:
    opps = latest(sample, "Opportunity")
    closed = opps["StageName"].is_in(["Closed Won", "Closed Lost"])
    assert (closed == (opps["IsClosed"] == "true")).all()
    assert ((opps["StageName"] == "Closed Won") == (opps["IsWon"] == "true")).all()
    # The stage map's one home, the dbt seed the warehouse fills empty categories from.
    stage_defaults = pl.read_csv(REPO / "seeds" / "reference" / "stage_defaults.csv")
    category = dict(stage_defaults.select("stage_name", "default_forecast_category").rows())
    with_category = opps.filter(pl.col("ForecastCategoryName").is_not_null())
    assert (
        with_category["StageName"].replace_strict(category) == with_category["ForecastCategoryName"]
    ).all()
    won = opps.filter(pl.col("IsWon") == "true", pl.col("Probability").is_not_null())
    assert (won["Probability"] == "100").all()

    lines = latest(sample, "OpportunityLineItem").with_columns(
        as_float("Quantity"),
        as_float("UnitPrice"),
        as_float("TotalPrice"),
        as_float("Discount").fill_null(0),
    )
    expected = (pl.col("Quantity") * pl.col("UnitPrice") * (1 - pl.col("Discount") / 100)).round(2)
    assert (lines["TotalPrice"] - lines.select(expected).to_series()).abs().max() < 0.005
    assert lines["Discount"].eq(0).any() and lines["Discount"].gt(0).any()
    sums = lines.group_by("OpportunityId").agg(pl.col("TotalPrice").sum().alias("line_total"))
    compared = opps.filter(pl.col("Amount").is_not_null()).join(
        sums, left_on="Id", right_on="OpportunityId"
    )
    assert compared.height > 0.9 * opps.height
    assert ((compared["Amount"].cast(pl.Float64) - compared["line_total"]).abs() < 0.01).all()


def test_lines_reuse_order_numbers_and_flag_exclusions(sample: Path) -> None:
    lines = latest(sample, "OpportunityLineItem")
    per_number = (
        lines.drop_nulls("Order_No__c")
        .group_by("Order_No__c")
        .agg(pl.col("OpportunityId").n_unique().alias("deals"))
    )
    assert (per_number["deals"] > 1).any()
    assert 0.5 < lines["Order_No__c"].is_not_null().mean() < 0.95
    assert {"true", "false", None} == set(lines["Exclude_From_Upgrade__c"])
    assert lines["ServiceDate"].null_count() not in (0, lines.height)
    # The 151-installment product is sold, rarely.
    products = latest(sample, "Product2")
    broken = products.filter(pl.col("NumberOfRevenueInstallments") == "151")["Id"]
    assert 1 <= lines["Product2Id"].is_in(broken.implode()).sum() <= 0.02 * lines.height


def test_splits_include_an_invalid_total(sample: Path) -> None:
    split_types = latest(sample, "OpportunitySplitType")
    assert split_types.select("DeveloperName", "SplitField", "IsTotalValidated").rows() == [
        ("MRR", "MRR", "true"),
        ("Overlay", "Amount", "false"),
    ]
    mrr_type = split_types.filter(pl.col("SplitField") == "MRR")["Id"][0]
    splits = latest(sample, "OpportunitySplit")
    totals = (
        splits.filter(pl.col("SplitTypeId") == mrr_type)
        .group_by("OpportunityId")
        .agg(as_float("SplitPercentage").sum().alias("total"))
    )
    opportunities = latest(sample, "Opportunity").height
    assert 0.05 <= totals.height / opportunities <= 0.15
    assert (totals["total"] == 100).sum() > 0.9 * totals.height
    assert (totals["total"] != 100).sum() >= 1
    owners = splits.group_by("OpportunityId", "SplitTypeId").agg(
        pl.col("SplitOwnerId").n_unique().alias("owners"), pl.len().alias("rows")
    )
    assert (owners["owners"] == owners["rows"]).all()


def test_quotes_orders_and_contracts(sample: Path) -> None:
    opps = latest(sample, "Opportunity")
    quotes = latest(sample, "Quote")
    assert set(quotes["Status"]) == {"Draft", "Presented", "Accepted"}
    assert set(quotes["IsSyncing"]) == {"true", "false"}
    assert quotes["OpportunityId"].n_unique() > 0.7 * opps.height

    orders = latest(sample, "Order")
    won = opps.filter(pl.col("IsWon") == "true")
    assert orders.height > 0.7 * won.height
    assert set(orders["Status"]) == {"Draft", "Activated", "Cancelled"}
    activated = orders.filter(pl.col("Status") == "Activated").with_columns(
        lag=pl.col("ActivatedDate").str.to_datetime(time_zone="UTC")
        - pl.col("CreatedDate").str.to_datetime(time_zone="UTC")
    )
    assert (activated["lag"] > timedelta(days=14)).any()
    assert (activated["lag"] < timedelta(days=7)).any()
    assert orders.filter(pl.col("Status") != "Activated")["ActivatedDate"].null_count() == (
        orders.filter(pl.col("Status") != "Activated").height
    )
    # A customer whose first and only order was cancelled.
    per_account = orders.group_by("AccountId").agg(
        pl.len().alias("orders"), (pl.col("Status") == "Cancelled").all().alias("cancelled")
    )
    assert per_account.filter(pl.col("orders") == 1, pl.col("cancelled")).height >= 1

    # Order items mirror the lines, some adjusted by the CSM.
    items = latest(sample, "OrderItem").join(
        orders.select(pl.col("Id").alias("OrderId"), "OpportunityId"), on="OrderId"
    )
    lines = latest(sample, "OpportunityLineItem").with_columns(
        net=(as_float("UnitPrice") * (1 - as_float("Discount").fill_null(0) / 100)).round(2)
    )
    matched = items.join(lines, on=["OpportunityId", "Product2Id"], suffix="_line")
    same = matched.select(
        (pl.col("Quantity") == pl.col("Quantity_line"))
        & ((as_float("UnitPrice") - pl.col("net")).abs() < 0.005)
    ).to_series()
    assert same.mean() > 0.8 and not same.all()

    contracts = latest(sample, "Contract")
    assert set(contracts["Status"]) == {"Draft", "Activated", "Expired"}
    assert set(contracts["ContractTerm"]) == {"12", "24", "36"}
    assert set(contracts["OwnerExpirationNotice"]) == {"30", "60", "90", None}
    assert contracts["EndDate"].null_count() not in (0, contracts.height)
    # Contracts end in the current and in the next quarter (the renewal pipeline's view).
    ends = contracts.with_columns(
        start=pl.col("StartDate").str.to_date(), term=pl.col("ContractTerm").cast(pl.Int32)
    ).with_columns(
        end=pl.coalesce(
            pl.col("EndDate").str.to_date(),
            pl.col("start").dt.offset_by(pl.format("{}mo", "term")).dt.offset_by("-1d"),
        )
    )
    quarter_start = date(2026, 10, 1)
    assert ends.filter(pl.col("end").is_between(quarter_start, date(2026, 12, 31))).height > 0
    assert ends.filter(pl.col("end").is_between(date(2027, 1, 1), date(2027, 3, 31))).height > 0


def test_accounts_include_planted_duplicates(sample: Path) -> None:
    accounts = latest(sample, "Account")
    with_site = accounts.drop_nulls("Website").with_columns(
        domain=normalized_domain(pl.col("Website"))
    )
    domains = with_site.group_by("domain").agg(pl.col("Website").n_unique().alias("forms"))
    assert (domains["forms"] > 1).any()  # same domain written differently
    no_site = accounts.filter(pl.col("Website").is_null()).with_columns(
        key=normalized_name(pl.col("Name"))
    )
    names = no_site.group_by("key").agg(pl.col("Name").n_unique().alias("spellings"))
    assert (names["spellings"] > 1).any()  # "Acme Inc." vs "ACME, LLC"
    merged = accounts.filter(pl.col("MasterRecordId").is_not_null())
    assert merged.height >= 2 and set(merged["IsDeleted"]) == {"true", "false"}
    assert (accounts["IsDeleted"] == "true").sum() == (merged["IsDeleted"] == "true").sum()
    assert accounts["ParentId"].null_count() < accounts.height
    assert accounts["Website"].null_count() > 0 and accounts["BillingCountry"].n_unique() > 5
    users = latest(sample, "User")
    assert users.height == SAMPLE_ACCOUNTS // 20 and set(users["IsActive"]) == {"true", "false"}


def test_conversion_rates_are_dated_quarterly(sample: Path) -> None:
    rates = latest(sample, "DatedConversionRate")
    assert {"EUR", "GBP", "CAD"} <= set(rates["IsoCode"])
    for code in ("EUR", "GBP", "CAD"):
        periods = rates.filter(pl.col("IsoCode") == code).sort("StartDate")
        assert periods.height >= 12  # every quarter of three years of history
        assert periods["NextStartDate"].null_count() == 1 and periods["NextStartDate"][-1] is None
        assert (periods["NextStartDate"][:-1] == periods["StartDate"][1:]).all()
        assert periods["StartDate"][0] <= "2023-11-16" <= periods["StartDate"][-1]


# --- evolution across snapshots -----------------------------------------------------------


def test_snapshots_evolve_like_a_crm(sample: Path) -> None:
    folders = snapshot_folders(sample)
    first, last = folders[0], folders[-1]

    for object_name in ("Account", "Opportunity", "Quote", "Order"):
        for folder in folders:
            created = read(folder, object_name)["CreatedDate"].str.slice(0, 10)
            assert (created <= folder.name).all(), (object_name, folder.name)
        # A record that first shows up in a later snapshot was created on that day.
        for before, after in zip(folders, folders[1:], strict=False):
            old_ids = read(before, object_name)["Id"].implode()
            new = read(after, object_name).filter(~pl.col("Id").is_in(old_ids))
            assert (new["CreatedDate"].str.slice(0, 10) == after.name).all(), object_name

    def ids(folder: Path, object_name: str) -> set[str]:
        return set(read(folder, object_name)["Id"])

    for object_name in ("Account", "Opportunity"):
        assert ids(last, object_name) - ids(first, object_name), f"no new {object_name}"
    for object_name in ("Account", "Opportunity", "OpportunityLineItem", "Quote"):
        assert ids(first, object_name) - ids(last, object_name), f"no deleted {object_name}"

    before = read(first, "Opportunity")
    after = read(last, "Opportunity")
    both = before.join(after, on="Id", suffix="_later")
    for fixed in ("AccountId", "CreatedDate", "Type", "Name", "Use_Case__c"):
        assert both.filter(pl.col(fixed).ne_missing(pl.col(f"{fixed}_later"))).height == 0, fixed
    for moving in ("StageName", "CloseDate", "Amount"):
        assert both.filter(pl.col(moving).ne_missing(pl.col(f"{moving}_later"))).height > 0, moving
    # Changes stay a small share of the pipeline each day.
    changed = both.filter(pl.col("StageName") != pl.col("StageName_later")).height
    assert changed < 0.1 * both.height

    orders = read(first, "Order").join(read(last, "Order"), on="Id", suffix="_later")
    assert (
        orders.filter(pl.col("Status") == "Draft", pl.col("Status_later") == "Activated").height
        >= 1
    )
    # Deals closed in the first snapshot stay closed (a reopened one was lost in the window).
    reopened = both.filter(pl.col("IsClosed") == "true", pl.col("IsClosed_later") == "false")
    assert reopened.height == 0


def test_pipeline_moves_day_to_day(sample: Path) -> None:
    """Between consecutive snapshots deals are pulled in (an earlier close date, still open),
    lost before their close date (CloseDate = that day) and reopened (SPEC 4.12)."""
    folders = snapshot_folders(sample)
    pulled_in, lost_early, reopened = set(), set(), set()
    for before, after in zip(folders, folders[1:], strict=False):
        pair = read(before, "Opportunity").join(read(after, "Opportunity"), on="Id", suffix="_1")
        open_both = pair.filter(pl.col("IsClosed") == "false", pl.col("IsClosed_1") == "false")
        pulled_in |= set(open_both.filter(pl.col("CloseDate_1") < pl.col("CloseDate"))["Id"])
        lost = pair.filter(
            pl.col("IsClosed") == "false",
            pl.col("StageName_1") == "Closed Lost",
            pl.col("CloseDate") > after.name,
        )
        assert (lost["CloseDate_1"] == after.name).all()
        lost_early |= set(lost["Id"])
        back = pair.filter(pl.col("StageName") == "Closed Lost", pl.col("IsClosed_1") == "false")
        reopened |= set(back["Id"])
        assert (pair.filter(pl.col("IsWon") == "true")["IsWon_1"] == "true").all()
    assert len(pulled_in) >= 2 and len(lost_early) >= 3 and len(reopened) >= 1
    assert reopened <= lost_early


def test_runtime_package_does_not_import_the_generator() -> None:
    """synthetic_crm is test and demo data: of the runtime package only the `recurwise
    generate` command imports it."""
    importers = set()
    for module in sorted((REPO / "dagster_project").rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "synthetic_crm" for name in names):
                importers.add(module.relative_to(REPO).as_posix())
    assert importers == {"dagster_project/cli.py"}
