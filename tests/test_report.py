"""The finance report (issue 9): every chart drawn, with data, in one HTML file that needs
no network; a mart with no rows yet is a note in the chart's place."""

import base64
import dataclasses
import json
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib import report
from dagster_project.lib.report import CHARTS, MARTS, TABLES, ReportError, write_report
from tests.contracts import create_empty_marts

UNAVAILABLE = "Not available in this warehouse"


class ReportPage(HTMLParser):
    """The report's chart sections (title, figures, note) and every src/href of the page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: dict[str, dict] = {}
        self.links: list[str] = []
        self.script_srcs: list[str] = []
        self._section: dict | None = None
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [attrs[a] for a in ("src", "href") if attrs.get(a)]
        if tag == "script" and attrs.get("src"):
            self.script_srcs.append(attrs["src"])
        if tag == "section" and "data-chart" in attrs:
            self._section = {"scripts": "", "text": ""}
            self.sections[attrs["data-chart"]] = self._section
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._section is not None:
            self._section["scripts" if self._in_script else "text"] += data


def figures(script: str) -> list[list[dict]]:
    """The trace lists of every Plotly.newPlot("id", [traces], ...) call in a script."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := script.find("Plotly.newPlot(", at)) != -1:
        rest = script[at + len("Plotly.newPlot(") :].lstrip()
        _, end = decoder.raw_decode(rest)  # the div id
        rest = rest[end:].lstrip().removeprefix(",").lstrip()
        traces, _ = decoder.raw_decode(rest)
        found.append(traces)
        at += 1
    return found


# plotly's typed-array dtypes as struct format characters (little-endian, like x86 and arm).
TYPED_ARRAY = {"f8": "d", "f4": "f", "i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i"}
TYPED_ARRAY |= {"u4": "I", "i8": "q", "u8": "Q"}


def values(column) -> list:
    """A trace's x or y: a JSON list, or plotly's base64 typed array."""
    if isinstance(column, dict) and "bdata" in column:
        data = base64.b64decode(column["bdata"])
        return memoryview(data).cast(TYPED_ARRAY[column["dtype"]]).tolist()
    return list(column or [])


def assert_drawn_with_data(page: ReportPage, title: str) -> None:
    section = page.sections[title]
    assert UNAVAILABLE not in section["text"], title
    traces = [t for fig in figures(section["scripts"]) for t in fig]
    assert traces, f"{title}: no figure"
    points = [v for t in traces for v in values(t.get("y"))]
    assert points and any(v for v in points), f"{title}: its traces carry no data"
    assert all(values(t.get("x")) for t in traces), f"{title}: a trace without x values"


@pytest.fixture(scope="module")
def demo_report(demo_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    drawn = write_report(demo_build.warehouse, out)
    return drawn, out.read_text(encoding="utf-8")


def test_report_draws_every_chart_on_the_demo(demo_report):
    drawn, text = demo_report
    page = ReportPage(text)
    assert drawn == [chart.title for chart in CHARTS]
    assert list(page.sections) == drawn
    for title in drawn:
        assert_drawn_with_data(page, title)


def test_report_needs_no_network(demo_report):
    _, text = demo_report
    page = ReportPage(text)
    assert page.script_srcs == []
    assert not [link for link in page.links if link.startswith(("http:", "https:", "//"))]
    assert "Plotly.newPlot" in text and "plotly.js" in text.lower()


def test_header_figures_are_the_marts(demo_db, demo_report):
    _, text = demo_report
    month, mrr, arr, customers = demo_db.execute(
        "select month, sum(mrr), sum(arr), count(*) filter (where mrr > 0) "
        "from marts.fct_mrr_monthly group by month order by month desc limit 1"
    ).fetchone()
    as_of = demo_db.execute("select max(snapshot_date) from raw.snapshots").fetchone()[0]
    header = text[text.index("<header>") : text.index("</header>")]
    assert f"{as_of.day} {as_of:%b %Y}" in header
    assert f"${mrr:,.0f}" in header and f"${arr:,.0f}" in header
    assert f">{customers:,}<" in header
    assert f"on {month.day} {month:%b %Y}" in header


def small_warehouse(path: Path) -> Path:
    """A small warehouse: every mart the report reads, as its contract has it, with rows."""
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    create_empty_marts(con, MARTS)
    con.execute("create table raw.snapshots as select date '2026-11-16' as snapshot_date")
    con.execute(
        "insert into marts.build_info by name select date '2026-11-16' as as_of_date, "
        "date '2026-11-16' as last_snapshot_date, 'USD' as corporate_currency"
    )
    con.execute(
        """
        insert into marts.fct_mrr_monthly by name
        select 'A' || (i % 3) as master_account_id, m::date as month,
               (100 + i)::decimal(18, 2) as mrr, 100::decimal(18, 2) as previous_mrr,
               i::decimal(18, 2) as mrr_change, ((100 + i) * 12)::decimal(18, 2) as arr,
               case when i % 3 = 0 then 'new' else 'expansion' end as movement,
               (100 + i)::decimal(18, 2) as opening_mrr, (110 + i)::decimal(18, 2) as closing_mrr
        from range(date '2025-01-01', date '2026-12-01', interval 1 month) t(m),
             range(3) r(i)
        """
    )
    con.execute(
        """
        insert into marts.fct_mrr_movements by name
        select m::date as month, mv as movement, 2 as accounts,
               (case when mv in ('churn', 'contraction') then -50 else 80 end)::decimal(18, 2)
                   as mrr_change,
               1000::decimal(18, 2) as month_starting_mrr,
               1190::decimal(18, 2) as month_ending_mrr
        from range(date '2025-01-01', date '2026-12-01', interval 1 month) t(m),
             unnest(['new', 'expansion', 'contraction', 'churn', 'reactivation', 'unchanged'])
                 u(mv)
        """
    )
    con.execute(
        """
        insert into marts.fct_opportunities by name
        select 'O' || i as opportunity_id, date '2026-01-15' + (i * 20)::integer as close_date,
               true as is_won, (1200 * (i + 1))::decimal(18, 2) as arr,
               i % 2 = 0 as is_new_logo
        from range(15) t(i)
        """
    )
    con.execute(
        """
        insert into marts.fct_mrr_forecast_monthly by name
        select m::date as month, s as scenario, 1000::decimal(18, 2) as committed_mrr,
               (i * 50)::decimal(18, 2) as pipeline_mrr, 20::decimal(18, 2) as at_risk_mrr,
               (980 + i * 50)::decimal(18, 2) as forecast_mrr
        from range(date '2025-11-01', date '2028-12-01', interval 1 month) t(m),
             unnest(['committed', 'commit', 'best_case', 'weighted_pipeline',
                     'expected_renewals']) with ordinality u(s, i)
        """
    )
    con.execute(
        """
        insert into marts.fct_renewal_pipeline by name
        select st as source_type, 'R' || i as source_id, 'A' || i as master_account_id,
               date '2026-11-20' + (i * 30)::integer as end_date, 4 + i * 30 as days_to_end,
               case when i < 2 then '2026-Q4' else '2027-Q1' end as end_quarter,
               (12000 + i)::decimal(18, 2) as arr, null::varchar as renewal_opportunity_id,
               (['renewed', 'in progress', 'churned', 'no renewal opportunity'])[i % 4 + 1]
                   as renewal_status
        from range(6) t(i), unnest(['contract', 'subscription']) u(st)
        """
    )
    con.execute(
        """
        insert into marts.fct_mrr_bridge_detail by name
        select master_account_id, month, 'P1' as product_id,
               10::decimal(18, 2) as new_product, (-4)::decimal(18, 2) as removed_product,
               (mrr_change - 9)::decimal(18, 2) as quantity, 3::decimal(18, 2) as price,
               mrr_change
        from marts.fct_mrr_monthly
        """
    )
    con.execute(
        """
        insert into marts.fct_retention_ttm by name
        select m::date as month, 40 + i as cohort_customers, 1.05::decimal(9, 4) as nrr,
               0.9::decimal(9, 4) as grr, 0.85::decimal(9, 4) as logo_retention
        from range(date '2026-01-01', date '2026-12-01', interval 1 month) with ordinality
            t(m, i)
        """
    )
    con.execute(
        """
        insert into marts.fct_cohort_retention by name
        select date '2026-01-01' + to_months(c::integer) as cohort_month,
               k::integer as months_since_start, 5 as cohort_customers,
               (1 - k * 0.05)::decimal(9, 4) as revenue_retention,
               (1 - k * 0.04)::decimal(9, 4) as logo_retention
        from range(6) a(c), range(6) b(k)
        where c + k < 6
        """
    )
    con.execute(
        """
        insert into marts.fct_potential_subscriptions by name
        select 'P' || i as potential_subscription_id,
               case when i % 3 = 0 then 'activated' else 'in_queue' end as status,
               date '2026-06-01' + i::integer as queued_date, null::date as activated_date,
               i * 9 as days_in_queue, false as is_adjusted, 'U1' as csm_id
        from range(20) t(i)
        """
    )
    # Close months November 2026 and January 2027: 100 + 30 created - 20 won = 110.
    con.execute(
        """
        insert into marts.fct_pipeline_waterfall by name
        select 'month' as grain, date '2026-11-02' as from_snapshot_date,
               date '2026-11-16' as to_snapshot_date, cm::date as close_month,
               'Commit' as forecast_category, 'U1' as owner_id, mv as movement,
               1 as opportunity_count, amount::decimal(18, 2) as amount,
               (amount / 10)::decimal(18, 2) as mrr
        from unnest([date '2026-11-01', date '2027-01-01']) c(cm),
             (values ('opening', 100), ('created', 30), ('won', -20), ('closing', 110))
                 m(mv, amount)
        """
    )
    con.close()
    return path


def test_report_draws_every_chart_of_a_small_warehouse(tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    drawn = write_report(warehouse, tmp_path / "report.html")
    assert drawn == [chart.title for chart in CHARTS]
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = ReportPage(text)
    for title in drawn:
        assert_drawn_with_data(page, title)
    names = {
        title: [t.get("name") for fig in figures(page.sections[title]["scripts"]) for t in fig]
        for title in drawn
    }
    assert names["Bookings: new logos vs existing customers"] == ["New logos", "Existing customers"]
    assert names["MRR forecast by scenario"] == [
        "Committed only",
        "Commit",
        "Best case",
        "Weighted pipeline",
        "Committed + expected renewals",
    ]
    assert names["Existing customers' MRR change: cross-sell, quantity and price"] == [
        "Cross-sell (new products)",
        "Quantity",
        "Price",
        "Products removed",
    ]
    assert set(names["Potential-subscription queue age"]) == {"Activated", "In queue"}
    # Contracts and subscriptions are drawn apart (one panel each), never summed.
    renewal = figures(page.sections["Renewals due by quarter"]["scripts"])[0]
    assert {t.get("xaxis", "x") for t in renewal} == {"x", "x2"}
    contract_renewed = next(
        t for t in renewal if t["name"] == "Renewed" and t.get("xaxis", "x") == "x"
    )
    assert values(contract_renewed["x"]) == ["2026-Q4", "2027-Q1"]
    assert values(contract_renewed["y"]) == [12000.0, 12004.0]


def test_bridge_adds_up_to_the_mrr_of_today(demo_db, demo_report):
    _, text = demo_report
    page = ReportPage(text)
    (bridge,) = figures(page.sections["MRR bridge, last 12 months"]["scripts"])[0]
    steps = values(bridge["y"])
    assert sum(steps[:-1]) == pytest.approx(steps[-1], abs=0.01)
    mrr = demo_db.execute(
        "select sum(mrr) from marts.fct_mrr_monthly "
        "where month = (select max(month) from marts.fct_mrr_monthly)"
    ).fetchone()[0]
    assert Decimal(str(steps[-1])).quantize(Decimal("0.01")) == mrr


def test_a_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        write_report(tmp_path / "nope.duckdb", tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


def test_a_file_that_is_not_a_recurwise_warehouse_is_a_clear_error(tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table marts.build_info")
    with pytest.raises(
        ReportError, match="is not a recurwise warehouse: it has no marts.build_info"
    ):
        write_report(warehouse, tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


def test_labels_are_the_builds_as_of_date_and_currency(tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.build_info set as_of_date = date '2026-11-10', "
            "last_snapshot_date = date '2026-11-09', corporate_currency = 'EUR'"
        )
    write_report(warehouse, tmp_path / "report.html")
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "10 Nov 2026" in text and "Money in EUR" in text and "€" in text
    assert "the build&#x27;s as-of date (CRM snapshot of 9 Nov 2026)" in text


def test_a_new_company_with_empty_marts_gets_a_note_for_every_chart_and_table(tmp_path):
    """Every mart there, none with rows yet: the report is written, with notes, no warnings."""
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        create_empty_marts(con, MARTS)
        con.execute(
            "insert into marts.build_info by name select date '2026-11-16' as as_of_date, "
            "date '2026-11-16' as last_snapshot_date, 'USD' as corporate_currency"
        )
    warnings: list[str] = []
    assert write_report(warehouse, tmp_path / "report.html", warnings=warnings) == []
    assert warnings == []
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = ReportPage(text)
    assert page.sections["MRR and ARR over time"]["text"].endswith(
        f"{UNAVAILABLE}: marts.fct_mrr_monthly has no rows for it."
    )
    note = f"{UNAVAILABLE}: marts.fct_mrr_bridge_detail and marts.fct_mrr_monthly has no rows"
    assert (
        note
        in page.sections["Existing customers' MRR change: cross-sell, quantity and price"]["text"]
    )
    for chart in CHARTS:
        assert (
            UNAVAILABLE in page.sections[chart.title]["text"]
            and not page.sections[chart.title]["scripts"]
        )
    for table in TABLES:
        assert f"Nothing to show: {table.empty}" in table_text(text, table.title).replace(
            "&#x27;", "'"
        )
    header = text[text.index("<header>") : text.index("</header>")]
    assert "n/a" in header and "marts.fct_mrr_monthly has no rows yet" in header


def test_a_first_year_without_starting_mrr_draws_the_bridge_from_zero(tmp_path):
    """A customer base in its first year: no MRR before the bridge's first month."""
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.fct_mrr_movements set month_starting_mrr = null")
    warnings: list[str] = []
    drawn = write_report(warehouse, tmp_path / "report.html", warnings=warnings)
    assert "MRR bridge, last 12 months" in drawn and warnings == []
    page = ReportPage((tmp_path / "report.html").read_text(encoding="utf-8"))
    (bridge,) = figures(page.sections["MRR bridge, last 12 months"]["scripts"])[0]
    assert values(bridge["y"])[0] == 0


def test_a_chart_that_cannot_be_drawn_is_a_warning_not_a_failure(tmp_path, monkeypatch):
    warehouse = small_warehouse(tmp_path / "w.duckdb")

    def draw(rows, ctx):
        raise TypeError("unsupported operand")

    broken = dataclasses.replace(CHARTS[0], draw=draw)
    monkeypatch.setattr(report, "CHARTS", [broken, *CHARTS[1:]])
    warnings: list[str] = []
    drawn = write_report(warehouse, tmp_path / "report.html", warnings=warnings)
    assert broken.title not in drawn and len(drawn) == len(CHARTS) - 1
    assert warnings == [
        f"finance report: chart {broken.title!r} it could not be drawn "
        "(TypeError: unsupported operand)"
    ]
    page = ReportPage((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert "could not be drawn" in page.sections[broken.title]["text"]


def test_pipeline_waterfall_chart_of_this_quarter_and_next(tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    write_report(warehouse, tmp_path / "report.html")
    page = ReportPage((tmp_path / "report.html").read_text(encoding="utf-8"))
    (traces,) = figures(page.sections["Pipeline waterfall, this quarter and next"]["scripts"])
    assert [t["name"] for t in traces] == ["Close 2026-Q4", "Close 2027-Q1"]
    for trace in traces:
        y = values(trace["y"])
        assert y[0] == 100 and y[-1] == 110 and sum(y[1:-1]) == 10
        assert values(trace["x"])[1][0] == "Opening" and values(trace["x"])[1][-1] == "Closing"


def table_text(text: str, title: str) -> str:
    start = text.index(f'data-table="{title}"')
    return text[start : text.index("</section>", start)]


def test_demo_report_tables_show_the_month_close(demo_db, demo_report):
    _, text = demo_report
    month_close = table_text(text, "Month close: reported vs restated")
    reported = demo_db.execute(
        "select reported_value from marts.fct_month_close "
        "where month = date '2026-10-01' and metric = 'won_bookings_amount'"
    ).fetchone()[0]
    assert "Oct 2026" in month_close and f"${reported:,.0f}" in month_close
    # The demo's own build froze every closed month: nothing is restated, and none of the
    # months its snapshots forecast has ended.
    assert "no closed month has been restated" in table_text(text, "Restatements")
    assert "no close month of the snapshots has ended yet" in table_text(
        text, "Forecast accuracy by lead time"
    )


def test_a_table_that_cannot_be_filled_is_a_warning(tmp_path, monkeypatch):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into marts.fct_forecast_accuracy by name select 3 as days_before_month_end, "
            "'commit' as method, 12.5 as abs_pct_error, true as is_month_closed"
        )

    def cells(rows, ctx):
        raise ValueError("bad value")

    broken = dataclasses.replace(TABLES[1], read=lambda con, ctx: [("a row",)], cells=cells)
    monkeypatch.setattr(report, "TABLES", [TABLES[0], broken])
    warnings: list[str] = []
    write_report(warehouse, tmp_path / "report.html", warnings=warnings)
    assert warnings == [
        f"finance report: table {broken.title!r} it could not be filled (ValueError: bad value)"
    ]
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"{UNAVAILABLE}: it could not be filled (ValueError: bad value)" in table_text(
        text, broken.title
    )
    accuracy = table_text(text, "Forecast accuracy by lead time")
    assert "<td>0-6 days</td><td>12.5%</td><td>n/a</td>" in accuracy


def test_crm_text_in_a_table_is_escaped(tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into marts.fct_restatements by name select date '2026-10-01' as month, "
            "'won_bookings_amount' as metric, 'opportunity' as record_type, "
            "'<img src=x onerror=alert(1)>' as record_id, 5.0 as difference, "
            "'</td><script>alert(\"owned\")</script>' as reason"
        )
    write_report(warehouse, tmp_path / "report.html")
    restatements = table_text(
        (tmp_path / "report.html").read_text(encoding="utf-8"), "Restatements"
    )
    assert "<script>" not in restatements and "<img" not in restatements
    assert "&lt;img src=x onerror=alert(1)&gt;" in restatements
    assert "&lt;/td&gt;&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in restatements
