"""Declared schema of the CRM export objects (SPEC section 2).

One `CrmObject` per Salesforce object: the file name it arrives as, the raw table it
lands in, and its fields with a type, whether the field is required, and the allowed
values of picklists that the warehouse logic branches on. Plain data, no Dagster or
DuckDB import, so ingest, tests and docs all read the same declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

# Field types and the DuckDB type each one is stored as in raw.
SQL_TYPES = {
    "text": "VARCHAR",
    # A Salesforce Id or lookup: trimmed, 15 characters made 18, the empty lookup
    # 000000000000000AAA null (SPEC 2.1).
    "id": "VARCHAR",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "bool": "BOOLEAN",
    # Money, quantities and percents: exact decimals so revenue adds up to the cent.
    "number": "DECIMAL(18,4)",
    "integer": "INTEGER",
    # FX rates carry more digits than money.
    "rate": "DECIMAL(18,8)",
}

# How a person reads each type in a reject reason.
TYPE_WORDS = {
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date-time (ISO 8601)",
    "bool": "a boolean (true/false/1/0, empty = false)",
    "number": "a number",
    "integer": "a whole number",
    "rate": "a number",
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "text"
    required: bool = False
    allowed: tuple[str, ...] = ()
    # An empty checkbox is false (SPEC 2.1), except where empty means "not set here":
    # a line's Exclude_From_Upgrade__c defers to its product's (SPEC 4.8).
    empty_is_unset: bool = False

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class CrmObject:
    name: str  # Salesforce API name, also the file stem: Opportunity.csv
    table: str  # raw.<table>
    fields: tuple[Field, ...]
    key: str | None = "Id"  # unique per file; None where the object has no Id
    optional: bool = False  # may be absent from a snapshot (then treated as empty)
    # Objects of the same snapshot this one's load reads (a field derived from them).
    reads: tuple[str, ...] = ()

    @property
    def required_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.required]


def _f(spec: str, type_: str = "text", allowed: tuple[str, ...] = ()) -> Field:
    """`*Name` marks a required field, as bold does in SPEC section 2."""
    return Field(spec.lstrip("*"), type_, spec.startswith("*"), allowed)


SCHEDULE_TYPES = ("Divide", "Repeat")
INSTALLMENT_PERIODS = ("Daily", "Weekly", "Monthly", "Quarterly", "Yearly")

# fmt: off
OBJECTS: tuple[CrmObject, ...] = (
    CrmObject("Account", "account", (
        _f("*Id", "id"), _f("*Name"), _f("Website"), _f("BillingCountry"), _f("ParentId", "id"),
        _f("OwnerId", "id"), _f("CSM__c", "id"), _f("MasterRecordId", "id"),
        _f("IsDeleted", "bool"),
        _f("*CreatedDate", "datetime"),
    )),
    CrmObject("Product2", "product2", (
        _f("*Id", "id"), _f("*Name"), _f("ProductCode"), _f("Family"), _f("IsActive", "bool"),
        _f("Charge_Type__c", allowed=("Recurring", "One-Time", "Usage")),
        _f("CanUseQuantitySchedule", "bool"),
        _f("QuantityScheduleType", allowed=SCHEDULE_TYPES),
        _f("QuantityInstallmentPeriod", allowed=INSTALLMENT_PERIODS),
        _f("NumberOfQuantityInstallments", "integer"),
        _f("CanUseRevenueSchedule", "bool"),
        _f("RevenueScheduleType", allowed=SCHEDULE_TYPES),
        _f("RevenueInstallmentPeriod", allowed=INSTALLMENT_PERIODS),
        _f("NumberOfRevenueInstallments", "integer"),
        _f("Exclude_From_Upgrade__c", "bool"),
    )),
    CrmObject("Opportunity", "opportunity", (
        _f("*Id", "id"), _f("*AccountId", "id"), _f("*Name"), _f("*StageName"),
        _f("*CloseDate", "date"),
        _f("Amount", "number"), _f("Probability", "number"),
        _f("ForecastCategoryName",
           allowed=("Pipeline", "Best Case", "Commit", "Closed", "Omitted")),
        _f("*IsClosed", "bool"), _f("*IsWon", "bool"),
        # Type is free text here: orgs add their own values and nothing branches on
        # anything but Renewal.
        _f("Type"), _f("OwnerId", "id"), _f("CurrencyIsoCode"), _f("*CreatedDate", "datetime"),
        _f("Create_Potential_Subscription__c", "bool"),
        # An unknown use case is the subscription builder's error to report (SPEC 4.8),
        # not a reason to drop the opportunity.
        _f("Use_Case__c"),
        _f("Start_Date__c", "date"), _f("Term_Months__c", "integer"),
    )),
    # The weekly Data Export has PricebookEntryId but no Product2Id: derived at ingest
    # from the same snapshot's PricebookEntry (SPEC 2.1).
    CrmObject("OpportunityLineItem", "opportunity_line_item", (
        _f("*Id", "id"), _f("*OpportunityId", "id"), _f("*Product2Id", "id"),
        _f("*Quantity", "number"), _f("*UnitPrice", "number"), _f("Discount", "number"),
        _f("TotalPrice", "number"), _f("ServiceDate", "date"), _f("Order_No__c"),
        Field("Exclude_From_Upgrade__c", "bool", empty_is_unset=True),
    ), reads=("PricebookEntry",)),
    CrmObject("OpportunityLineItemSchedule", "opportunity_line_item_schedule", (
        _f("*Id", "id"), _f("*OpportunityLineItemId", "id"),
        _f("*Type", allowed=("Quantity", "Revenue", "Both")),
        _f("*ScheduleDate", "date"), _f("Quantity", "number"), _f("Revenue", "number"),
        _f("Description"),
    ), optional=True),
    CrmObject("OpportunitySplitType", "opportunity_split_type", (
        _f("*Id", "id"), _f("*DeveloperName"), _f("SplitField", allowed=("Amount", "MRR")),
        _f("IsTotalValidated", "bool"),
    ), optional=True),
    CrmObject("OpportunitySplit", "opportunity_split", (
        _f("*Id", "id"), _f("*OpportunityId", "id"), _f("*SplitOwnerId", "id"),
        _f("*SplitPercentage", "number"),
        _f("*SplitTypeId", "id"),
    ), optional=True),
    CrmObject("Quote", "quote", (
        _f("*Id", "id"), _f("*OpportunityId", "id"), _f("Status"), _f("ExpirationDate", "date"),
        _f("IsSyncing", "bool"), _f("GrandTotal", "number"), _f("CreatedDate", "datetime"),
    ), optional=True),
    CrmObject("Order", "order", (
        _f("*Id", "id"), _f("*AccountId", "id"), _f("OpportunityId", "id"),
        _f("ContractId", "id"),
        _f("*Status", allowed=("Draft", "Activated", "Cancelled")), _f("Type"),
        _f("EffectiveDate", "date"), _f("EndDate", "date"), _f("ActivatedDate", "datetime"),
        _f("*CreatedDate", "datetime"),
    ), optional=True),
    CrmObject("OrderItem", "order_item", (
        _f("*Id", "id"), _f("*OrderId", "id"), _f("*Product2Id", "id"),
        _f("*Quantity", "number"),
        _f("*UnitPrice", "number"), _f("ServiceDate", "date"), _f("EndDate", "date"),
    ), optional=True),
    CrmObject("Contract", "contract", (
        _f("*Id", "id"), _f("*AccountId", "id"), _f("ContractNumber"),
        _f("*Status", allowed=("Draft", "Activated", "Expired")),
        _f("*StartDate", "date"), _f("ContractTerm", "integer"), _f("EndDate", "date"),
        _f("OwnerExpirationNotice", "integer"), _f("ActivatedDate", "datetime"),
    ), optional=True),
    # The Data Export's User has FirstName and LastName but no Name: derived at ingest.
    CrmObject("User", "user", (
        _f("*Id", "id"), _f("*Name"), _f("IsActive", "bool"),
    ), optional=True),
    # Only to give line items of the Data Export their Product2Id.
    CrmObject("PricebookEntry", "pricebook_entry", (
        _f("*Id", "id"), _f("*Product2Id", "id"), _f("Pricebook2Id", "id"),
        _f("UnitPrice", "number"), _f("IsActive", "bool"),
    ), optional=True),
    CrmObject("DatedConversionRate", "dated_conversion_rate", (
        _f("*IsoCode"), _f("*ConversionRate", "rate"), _f("*StartDate", "date"),
        _f("NextStartDate", "date"),
    ), key=None, optional=True),
)

# fmt: on

OBJECTS_BY_NAME = {o.name: o for o in OBJECTS}
