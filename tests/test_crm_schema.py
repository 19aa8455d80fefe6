"""lib/crm_schema.py against SPEC section 2: the objects, their fields in order, and which
fields are required. Ingest, the generator and the writer all read crm_schema, so this
test is the one that compares it with the spec instead of with itself."""

import re
from pathlib import Path

from dagster_project.lib.crm_schema import OBJECTS_BY_NAME

SPEC_SECTION_2 = Path(__file__).with_name("spec_section_2.md")


def spec_objects() -> dict[str, tuple[list[str], set[str]]]:
    """object -> (fields in order, required fields), from SPEC's table (copied, on purpose)."""
    objects = {}
    lines = SPEC_SECTION_2.read_text().splitlines()
    for line in [line for line in lines if line.startswith("| ") and "**" in line]:
        _, name, fields, _ = (cell.strip() for cell in line.split("|"))
        # Drop the allowed values, "(Recurring, One-Time, Usage)", then split on commas.
        cells = [cell.strip() for cell in re.sub(r"\([^)]*\)", "", fields).split(",")]
        objects[name] = (
            [cell.strip("*").strip() for cell in cells],
            {cell.strip("*").strip() for cell in cells if cell.startswith("**")},
        )
    return objects


def test_every_spec_object_has_the_spec_fields_in_order():
    spec = spec_objects()
    assert len(spec) == 13
    for name, (fields, _) in spec.items():
        assert [f.name for f in OBJECTS_BY_NAME[name].fields] == fields, name


def test_the_required_fields_are_the_bold_ones():
    for name, (_, required) in spec_objects().items():
        assert set(OBJECTS_BY_NAME[name].required_fields) == required, name
