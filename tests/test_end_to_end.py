"""The whole build job on the bundled demo snapshots, asserted on real values."""

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl

from dagster_project.build.run import DEMO_LANDING
from dagster_project.lib.crm_schema import OBJECTS
from dagster_project.lib.renewals_export import export_renewals
from dagster_project.lib.warehouse import dbt_target_dir, work_path

DOCS = Path(__file__).resolve().parents[1] / "docs"
SNAPSHOTS = sorted(p for p in DEMO_LANDING.iterdir() if p.is_dir())
LATEST = SNAPSHOTS[-1]


# SPEC 5, the public contract: each mart and its required columns (more are welcome).
PUBLIC_CONTRACT = {
    "dim_accounts": "master_account_id account_name first_business_date customer_status",
    "fct_opportunities": "opportunity_id account_id master_account_id stage_name close_date "
    "forecast_category is_won is_closed amount mrr arr tcv is_new_logo is_new_logo_original",
    "fct_line_items": "line_item_id opportunity_id product_id product_family is_recurring "
    "quantity net_unit_price term_months mrr tcv",
    "fct_schedules": "line_item_id schedule_type installment_number schedule_date quantity "
    "revenue is_generated",
    "schedule_errors": "line_item_id message",
    "fct_revenue_schedule_monthly": "schedule_month stage_name forecast_category "
    "product_family scheduled_quantity scheduled_revenue",
    "fct_opportunity_splits": "opportunity_id split_owner_id split_type split_percentage "
    "split_mrr split_amount",
    "split_errors": "opportunity_id split_type total_percentage",
    "fct_mrr_forecast_by_close_month": "close_month forecast_category owner_id mrr tcv "
    "weighted_mrr opportunity_count",
    "fct_potential_subscriptions": "potential_subscription_id opportunity_id "
    "master_account_id status queued_date activated_date days_in_queue is_adjusted csm_id",
    "fct_subscriptions": "subscription_id master_account_id source_opportunity_id "
    "use_case_requested use_case_applied status start_date end_date previous_subscription_id",
    "fct_subscription_items": "subscription_item_id subscription_id order_no product_id "
    "quantity net_unit_price mrr start_date end_date source_line_item_id cloned_from_item_id",
    "subscription_build_errors": "opportunity_id master_account_id use_case_requested message",
    "fct_mrr_monthly": "master_account_id month mrr previous_mrr mrr_change movement "
    "opening_mrr closing_mrr mrr_at_current_rates",
    "fct_mrr_movements": "month movement accounts mrr_change",
    "fct_contracts": "contract_id master_account_id start_date contract_term end_date "
    "notice_date status",
    "fct_renewal_pipeline": "source_type source_id master_account_id end_date days_to_end "
    "end_quarter arr renewal_opportunity_id renewal_status",
    "renewal_opportunities_to_create": "AccountId Name Type StageName CloseDate Amount",
    "fct_opportunity_history": "opportunity_id valid_from valid_to stage_name amount "
    "close_date forecast_category",
    "fct_mrr_forecast_monthly": "month scenario committed_mrr pipeline_mrr at_risk_mrr "
    "forecast_mrr",
    "build_info": "as_of_date first_snapshot_date last_snapshot_date corporate_currency "
    "mrr_convention settings build_filter built_at recurwise_version",
    "fct_pipeline_waterfall": "grain from_snapshot_date to_snapshot_date close_month "
    "forecast_category owner_id movement opportunity_count amount mrr",
    "fct_forecast_accuracy": "snapshot_date close_month days_before_month_end method "
    "forecast_amount forecast_mrr actual_amount actual_mrr error_amount abs_pct_error "
    "is_month_closed",
    "fct_month_close": "month metric reported_value restated_value difference frozen_at_as_of",
    "fct_restatements": "month metric record_type record_id reported_value restated_value reason",
    "fct_retention_ttm": "month cohort_customers starting_mrr retained_mrr nrr grr logo_retention",
    "fct_cohort_retention": "cohort_month months_since_start cohort_customers "
    "active_customers cohort_starting_mrr mrr logo_retention revenue_retention",
    "fct_mrr_bridge_detail": "master_account_id month product_id new_product removed_product "
    "quantity price mrr_change",
}


def read_csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_build_publishes_the_file_and_leaves_no_work_file(demo_build):
    assert demo_build.warehouse.is_file()
    assert not work_path(demo_build.warehouse).exists()
    assert demo_build.snapshots == [p.name for p in SNAPSHOTS]
    marts = dict(demo_build.marts)
    assert marts["fct_opportunities"] > 0 and marts["dim_accounts"] > 0


def test_every_mart_of_the_public_contract_has_its_required_columns(demo_db):
    rows = demo_db.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts'"
    ).fetchall()
    published: dict[str, set[str]] = {}
    for table, column in rows:
        published.setdefault(table, set()).add(column)
    missing = {
        mart: sorted(set(columns.split()) - published.get(mart, set()))
        for mart, columns in PUBLIC_CONTRACT.items()
        if set(columns.split()) - published.get(mart, set())
    }
    assert missing == {}


def test_build_info_records_the_build(demo_db):
    info = demo_db.execute(
        "select as_of_date, first_snapshot_date, last_snapshot_date, latest_snapshot_loaded, "
        "corporate_currency, mrr_convention, settings->>'renewal_horizon_days', build_filter, "
        "recurwise_version from marts.build_info"
    ).fetchall()
    assert [tuple(str(v) for v in row) for row in info] == [
        (LATEST.name, SNAPSHOTS[0].name, LATEST.name, LATEST.name, "USD", "opening", "120",
         "is_won and coalesce(create_potential_subscription, false)", "0.1.0")
    ]  # fmt: skip


def test_dbt_parses_the_project_at_most_once_per_build(demo_build):
    """A first build of a new warehouse: the invocation before the subscription builder
    may parse the whole project (its profile names this work file), the one after it
    starts from that parse."""
    targets = dbt_target_dir(demo_build.warehouse)
    parsed = {
        log.parent.name: '"name": "UnableToPartialParse"' in log.read_text()
        for log in targets.glob("*/dbt.log")
    }
    assert set(parsed) == {"crm_dbt_models", "subscription_dbt_models"}
    assert not parsed["subscription_dbt_models"]


def test_every_csv_row_is_loaded_or_rejected(demo_db):
    loads = {
        (name, str(day)): (loaded, rejected)
        for name, day, loaded, rejected in demo_db.execute(
            "select object_name, snapshot_date, rows_loaded, rows_rejected from raw._loads"
        ).fetchall()
    }
    for folder in SNAPSHOTS:
        for obj in OBJECTS:
            path = folder / f"{obj.name}.csv"
            if not path.exists():
                continue
            loaded, rejected = loads[(obj.name, folder.name)]
            assert loaded + rejected == read_csv(path).height, path
            table_rows = demo_db.execute(
                f"select count(*) from raw.{obj.table} where _snapshot_date = ?", [folder.name]
            ).fetchone()[0]
            assert table_rows == loaded


def test_raw_rows_carry_load_metadata(demo_db):
    nulls = demo_db.execute(
        "select count(*) from raw.opportunity where _snapshot_date is null or _source_file is null "
        "or _file_sha256 is null or _load_id is null or _loaded_at is null or _line_number is null"
    ).fetchone()[0]
    assert nulls == 0


def test_raw_keeps_one_version_per_unchanged_row(demo_db):
    stored, shown = demo_db.execute(
        "select (select count(*) from raw.opportunity_versions), "
        "(select count(*) from raw.opportunity)"
    ).fetchone()
    # Four snapshots of ~460 opportunities, few of which change from day to day.
    assert shown == sum(read_csv(folder / "Opportunity.csv").height for folder in SNAPSHOTS)
    assert stored < shown / 3


def test_mart_key_columns_are_not_null_constraints(demo_db):
    """not_null in the marts' contracts is checked by DuckDB as each table is written."""
    constrained = {
        (table, column)
        for table, columns in demo_db.execute(
            "select table_name, constraint_column_names from duckdb_constraints() "
            "where schema_name = 'marts' and constraint_type = 'NOT NULL'"
        ).fetchall()
        for column in columns
    }
    assert {
        ("fct_opportunities", "opportunity_id"),
        ("fct_line_items", "mrr"),
        ("fct_subscriptions", "subscription_id"),
        ("fct_mrr_monthly", "month"),
    } <= constrained


def test_opportunities_mart_is_the_latest_snapshot(demo_db):
    expected = read_csv(LATEST / "Opportunity.csv").select(
        pl.col("Id").alias("opportunity_id"),
        pl.col("StageName").alias("stage_name"),
        pl.col("Amount").cast(pl.Decimal(18, 2)).alias("amount_original"),
        pl.col("CloseDate").str.to_date().alias("close_date"),
    )
    mart = demo_db.sql(
        "select opportunity_id, stage_name, amount_original, close_date "
        "from marts.fct_opportunities"
    ).pl()
    assert mart.height == expected.height
    joined = expected.join(mart, on="opportunity_id", suffix="_mart")
    assert joined.height == expected.height
    assert (joined["stage_name"] == joined["stage_name_mart"]).all()
    assert (joined["close_date"] == joined["close_date_mart"]).all()
    differs = pl.col("amount_original").ne_missing(pl.col("amount_original_mart"))
    assert joined.filter(differs).is_empty()


def test_amounts_are_converted_at_the_rate_in_force_on_the_close_date(demo_db):
    rates = read_csv(LATEST / "DatedConversionRate.csv")
    rows = demo_db.execute(
        "select opportunity_id, currency_iso_code, close_date, amount_original, amount "
        "from marts.fct_opportunities where currency_iso_code <> 'USD' and not is_fx_rate_missing "
        "and amount_original is not null"
    ).fetchall()
    assert rows, "the demo holds foreign-currency deals"
    for _, currency, close_date, original, converted in rows:
        in_force = rates.filter(
            (pl.col("IsoCode") == currency)
            & (pl.col("StartDate").str.to_date() <= close_date)
            & (
                pl.col("NextStartDate").is_null()
                | (pl.col("NextStartDate").str.to_date() > close_date)
            )
        )
        rate = Decimal(in_force["ConversionRate"][0])
        assert converted == (original / rate).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _domain(website: str | None) -> str | None:
    if not website:
        return None
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", website.strip().lower())
    return re.sub(r"^www\.|[/?#:].*$", "", text) or None


def test_accounts_with_one_website_domain_share_a_master(demo_db):
    accounts = read_csv(LATEST / "Account.csv").filter(pl.col("MasterRecordId").is_null())
    domains = accounts.select("Id", pl.col("Website").map_elements(_domain, return_dtype=pl.String))
    masters = demo_db.sql(
        "select account_id as Id, master_account_id from intermediate.int_accounts_mastered"
    ).pl()
    grouped = (
        domains.join(masters, on="Id")
        .drop_nulls("Website")
        .group_by("Website")
        .agg(pl.col("master_account_id").n_unique().alias("masters"), pl.len().alias("accounts"))
    )
    assert grouped["masters"].max() == 1
    assert grouped["accounts"].max() > 1  # the demo holds duplicate accounts


def test_merged_accounts_follow_their_master_record(demo_db):
    merged = read_csv(LATEST / "Account.csv").filter(pl.col("MasterRecordId").is_not_null())
    assert merged.height > 0
    mapping = dict(
        demo_db.execute(
            "select account_id, master_account_id from intermediate.int_accounts_mastered"
        ).fetchall()
    )
    for account_id, master_record_id in merged.select("Id", "MasterRecordId").iter_rows():
        assert mapping[account_id] == mapping[master_record_id]


def test_opportunity_history_versions_follow_the_snapshots(demo_db):
    first = read_csv(SNAPSHOTS[0] / "Opportunity.csv").select("Id", "StageName")
    last = read_csv(LATEST / "Opportunity.csv").select("Id", "StageName")
    changed = first.join(last, on="Id").filter(pl.col("StageName") != pl.col("StageName_right"))
    assert changed.height > 0
    opportunity_id = changed["Id"][0]
    versions = demo_db.execute(
        "select valid_from, valid_to, stage_name from marts.fct_opportunity_history "
        "where opportunity_id = ? order by valid_from",
        [opportunity_id],
    ).fetchall()
    assert versions[0][0].isoformat() == SNAPSHOTS[0].name
    assert versions[0][2] == changed["StageName"][0]
    assert versions[-1][1] is None and versions[-1][2] == changed["StageName_right"][0]
    for earlier, later in zip(versions, versions[1:], strict=False):
        assert earlier[1] == later[0]


def test_every_subscription_source_is_built_or_reported(demo_db):
    sources = demo_db.execute(
        "select count(*) from staging.stg_crm__opportunities "
        "where is_won and coalesce(create_potential_subscription, false)"
    ).fetchone()[0]
    built = demo_db.execute(
        "select count(*) from intermediate.subscription_build_sources"
    ).fetchone()[0]
    errors = demo_db.execute("select count(*) from marts.subscription_build_errors").fetchone()[0]
    assert sources > 0 and errors > 0
    assert built + errors == sources
    upgraded = demo_db.execute(
        "select count(*) from marts.fct_subscriptions as new "
        "join marts.fct_subscriptions as old on new.previous_subscription_id = old.subscription_id "
        "where old.status <> 'Upgraded' or old.end_date <> new.start_date - 1"
    ).fetchone()[0]
    assert upgraded == 0
    use_cases = {
        r[0]
        for r in demo_db.execute(
            "select distinct use_case_applied from intermediate.subscription_build_sources"
        ).fetchall()
    }
    assert use_cases == {"NEW", "REORDER", "UPGRADE"}
    clones = demo_db.execute(
        "select count(*) from marts.fct_subscription_items where cloned_from_item_id is not null"
    ).fetchone()[0]
    assert clones > 0


def test_monthly_mrr_is_the_items_active_on_the_first_day(demo_db):
    month, mrr = demo_db.execute(
        "select month, sum(mrr) from marts.fct_mrr_monthly "
        "where month = (select max(month) from marts.fct_mrr_monthly) group by month"
    ).fetchone()
    active = demo_db.execute(
        "select sum(mrr) from marts.fct_subscription_items "
        "where start_date <= ? and (end_date is null or end_date >= ?)",
        [month, month],
    ).fetchone()[0]
    assert mrr == active and mrr > 0
    broken_chain = demo_db.execute(
        "select count(*) from (select mrr, previous_mrr, "
        "lag(mrr) over (partition by master_account_id order by month) as prior, "
        "lag(month) over (partition by master_account_id order by month) as prior_month, month "
        "from marts.fct_mrr_monthly) "
        "where prior is not null and prior_month = month - interval 1 month "
        "and prior <> previous_mrr"
    ).fetchone()[0]
    assert broken_chain == 0
    movements = {
        r[0]
        for r in demo_db.execute("select distinct movement from marts.fct_mrr_monthly").fetchall()
    }
    assert movements == {"new", "expansion", "contraction", "churn", "reactivation", "unchanged"}
    ending = demo_db.execute(
        "select month_ending_mrr from marts.fct_mrr_movements where month = ? limit 1", [month]
    ).fetchone()[0]
    assert ending == mrr


FORUM_QUERY = (DOCS / "queries" / "won_opportunities_contract_expiring.sql").read_text()


def test_every_ready_query_of_the_readme_runs(demo_db):
    queries = sorted((DOCS / "queries").glob("*.sql"))
    assert len(queries) == 6
    for path in queries:
        assert demo_db.execute(path.read_text()).fetchall(), f"{path.name} returned no rows"


def test_forum_report_is_one_query(demo_db):
    rows = demo_db.execute(FORUM_QUERY).fetchall()
    assert rows
    quarters = {
        r[0]
        for r in demo_db.execute(
            "select distinct end_quarter from marts.fct_contracts "
            "where quarters_from_as_of in (0, 1)"
        ).fetchall()
    }
    assert {row[-1] for row in rows} <= quarters


def test_renewal_export_has_the_data_loader_header(demo_build, tmp_path):
    out = tmp_path / "renewals.csv"
    rows = export_renewals(demo_build.warehouse, out)
    lines = out.read_text().splitlines()
    assert lines[0] == "AccountId,Name,Type,StageName,CloseDate,Amount"
    assert rows == len(lines) - 1 > 0


def test_new_logo_flags_follow_the_first_order(demo_db):
    counts = demo_db.execute(
        "select count(*) filter (is_new_logo), count(*) filter (is_new_logo_original), "
        "count(*) filter (is_new_logo and not is_new_logo_original) from marts.fct_opportunities"
    ).fetchone()
    current, original, impossible = counts
    assert 0 < current < original and impossible == 0
    quotes_mismatch = demo_db.execute(
        "select count(*) from marts.fct_quotes q join marts.fct_opportunities o "
        "using (opportunity_id) where q.is_new_logo is distinct from o.is_new_logo"
    ).fetchone()[0]
    assert quotes_mismatch == 0


def test_forecast_covers_36_months_and_five_scenarios(demo_db):
    months, scenarios = demo_db.execute(
        "select count(distinct month), count(distinct scenario) from marts.fct_mrr_forecast_monthly"
    ).fetchone()
    assert (months, scenarios) == (37, 5)
    committed_now = demo_db.execute(
        "select committed_mrr from marts.fct_mrr_forecast_monthly f "
        "where scenario = 'committed' and month = (select max(month) from marts.fct_mrr_monthly)"
    ).fetchone()[0]
    mrr_now = demo_db.execute(
        "select sum(mrr) from marts.fct_mrr_monthly "
        "where month = (select max(month) from marts.fct_mrr_monthly)"
    ).fetchone()[0]
    assert committed_now == mrr_now


# SPEC 5's marts and required columns that this build publishes (build_info and the
# pipeline-history marts of SPEC 4.12 come with their own issues).
SPEC_5_COLUMNS = {
    "fct_mrr_monthly": {
        "master_account_id", "month", "mrr", "previous_mrr", "mrr_change", "movement",
        "opening_mrr", "closing_mrr", "mrr_at_current_rates",
    },
    "fct_mrr_movements": {"month", "movement", "accounts", "mrr_change"},
    "fct_mrr_forecast_monthly": {
        "month", "scenario", "committed_mrr", "pipeline_mrr", "at_risk_mrr", "forecast_mrr",
    },
    "fct_retention_ttm": {
        "month", "cohort_customers", "starting_mrr", "retained_mrr", "nrr", "grr",
        "logo_retention",
    },
    "fct_cohort_retention": {
        "cohort_month", "months_since_start", "cohort_customers", "active_customers",
        "cohort_starting_mrr", "mrr", "logo_retention", "revenue_retention",
    },
    "fct_mrr_bridge_detail": {
        "master_account_id", "month", "product_id", "new_product", "removed_product",
        "quantity", "price", "mrr_change",
    },
}  # fmt: skip


def test_spec_5_marts_have_their_required_columns(demo_db):
    for mart, required in SPEC_5_COLUMNS.items():
        columns = {
            r[0]
            for r in demo_db.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ?",
                [mart],
            ).fetchall()
        }
        assert required <= columns, (mart, required - columns)
    movements = {
        r[0]
        for r in demo_db.execute("select distinct movement from marts.fct_mrr_movements").fetchall()
    }
    assert "fx_impact" in movements
    scenarios = {
        r[0]
        for r in demo_db.execute(
            "select distinct scenario from marts.fct_mrr_forecast_monthly"
        ).fetchall()
    }
    assert "expected_renewals" in scenarios


def test_opening_plus_movements_is_closing_every_month_in_both_currency_views(demo_db):
    months = demo_db.execute(
        """
        with totals as (
            select month, sum(mrr) as mrr, sum(mrr_at_current_rates) as at_current_rates
            from marts.fct_mrr_monthly group by month
        ),
        moves as (
            select month,
                   sum(mrr_change) filter (where movement != 'fx_impact') as movements,
                   sum(mrr_change) filter (where movement = 'fx_impact') as fx_impact
            from marts.fct_mrr_movements group by month
        )
        select t.month, coalesce(p.mrr, 0), m.movements, t.mrr,
               coalesce(p.at_current_rates, 0), m.fx_impact, t.at_current_rates
        from totals as t
        join moves as m using (month)
        left join totals as p on p.month = t.month - interval 1 month
        order by t.month
        """
    ).fetchall()
    # February 2024 (a mid-month start's closing MRR; opening MRR from March) to November 2026
    assert len(months) == 34
    for month, opening, movements, closing, fx_opening, fx_impact, fx_closing in months:
        assert opening + movements == closing, month
        assert fx_opening + movements + fx_impact == fx_closing, month
    # The demo's foreign-currency deals move with their dated rates: FX is not zero.
    assert sum(abs(m[5]) for m in months) > 0
    # Closing MRR of the as-of month = the items active on its last day.
    closing, items = demo_db.execute(
        """
        select sum(closing_mrr),
               (select sum(mrr) from marts.fct_subscription_items
                where start_date <= date '2026-11-30'
                  and (end_date is null or end_date >= date '2026-11-30'))
        from marts.fct_mrr_monthly where month = date '2026-11-01'
        """
    ).fetchone()
    assert (
        closing == items
        and closing
        != demo_db.execute(
            "select sum(opening_mrr) from marts.fct_mrr_monthly where month = date '2026-11-01'"
        ).fetchone()[0]
    )


def test_bridge_detail_sums_to_each_customers_change(demo_db):
    mismatches, customer_months = demo_db.execute(
        """
        with bridge as (
            select master_account_id, month, sum(mrr_change) as change,
                   sum(new_product + removed_product + quantity + price) as parts
            from marts.fct_mrr_bridge_detail group by all
        )
        select count(*) filter (where coalesce(b.change, 0) != m.mrr_change
                                   or coalesce(b.parts, 0) != m.mrr_change),
               count(*) filter (where m.mrr_change != 0)
        from marts.fct_mrr_monthly as m
        left join bridge as b using (master_account_id, month)
        """
    ).fetchone()
    assert mismatches == 0 and customer_months > 0
    quantity_rows, price_rows = demo_db.execute(
        "select count(*) filter (where quantity != 0), count(*) filter (where price != 0) "
        "from marts.fct_mrr_bridge_detail"
    ).fetchone()
    assert quantity_rows > 0 and price_rows > 0


def test_ttm_retention_follows_saas_capitals_definitions(demo_db):
    monthly = demo_db.sql("select master_account_id, month, mrr from marts.fct_mrr_monthly").pl()
    then = monthly.filter((pl.col("month") == date(2025, 11, 1)) & (pl.col("mrr") > 0))
    now = monthly.filter(pl.col("month") == date(2026, 11, 1)).select(
        "master_account_id", pl.col("mrr").alias("mrr_now")
    )
    cohort = then.join(now, on="master_account_id", how="left").with_columns(
        pl.col("mrr_now").fill_null(0)
    )
    starting = sum(cohort["mrr"])
    nrr = (sum(cohort["mrr_now"]) / starting).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    grr = (
        sum(min(a, b) for a, b in zip(cohort["mrr"], cohort["mrr_now"], strict=True)) / starting
    ).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    row = demo_db.execute(
        "select cohort_customers, retained_customers, nrr, grr, logo_retention "
        "from marts.fct_retention_ttm where month = date '2026-11-01'"
    ).fetchone()
    assert row[:2] == (cohort.height, cohort.filter(pl.col("mrr_now") > 0).height)
    assert (row[2], row[3]) == (nrr, grr)
    # The demo's figures (real run): 88 customers twelve months back, 78 still paying.
    assert row == (88, 78, Decimal("1.0687"), Decimal("0.7279"), Decimal("0.8864"))
    first_month = demo_db.execute("select min(month) from marts.fct_retention_ttm").fetchone()[0]
    assert first_month == date(2025, 3, 1)  # twelve months after the first MRR


def test_cohorts_start_whole_and_count_every_customer_once(demo_db):
    starts, customers, start_mrr = demo_db.execute(
        "select count(*) filter (where logo_retention != 1 or revenue_retention != 1), "
        "sum(cohort_customers), sum(cohort_starting_mrr) "
        "from marts.fct_cohort_retention where months_since_start = 0"
    ).fetchone()
    assert starts == 0
    first = demo_db.execute(
        "select count(*), sum(mrr) from (select master_account_id, arg_min(mrr, month) as mrr "
        "from marts.fct_mrr_monthly where mrr > 0 group by all)"
    ).fetchone()
    assert (customers, start_mrr) == first
    # Today's MRR of all cohorts is today's MRR.
    latest = demo_db.execute(
        "select sum(mrr) from marts.fct_cohort_retention where month = date '2026-11-01'"
    ).fetchone()[0]
    assert (
        latest
        == demo_db.execute(
            "select sum(mrr) from marts.fct_mrr_monthly where month = date '2026-11-01'"
        ).fetchone()[0]
    )


def test_expected_renewals_lie_between_losing_and_keeping_every_renewal(demo_db):
    rows = demo_db.execute(
        """
        select month,
               any_value(forecast_mrr) filter (where scenario = 'committed'),
               any_value(forecast_mrr) filter (where scenario = 'expected_renewals'),
               any_value(pipeline_mrr) filter (where scenario = 'expected_renewals')
        from marts.fct_mrr_forecast_monthly where is_forecast group by month order by month
        """
    ).fetchall()
    assert rows[0][1] == rows[0][2]  # nothing is due before the as-of month ends
    assert all(expected >= committed for _, committed, expected, _ in rows)
    assert rows[-1][2] > rows[-1][1]
    rate = demo_db.execute(
        "select renewal_rate from intermediate.int_renewal_rates where product_family = '*'"
    ).fetchone()[0]
    assert 0 < rate < 1
