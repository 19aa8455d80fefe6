"""Ingest: CRM export files of the landing folder into raw.<object> and raw.rejects.

landing.py finds the snapshot folders and their files; load.py loads one file in named
steps (reading.py, headers.py, row_rules.py, raw_schema.py); delivery.py holds the gates
that stop a snapshot from being published (SPEC 3). Plain Python and DuckDB, no Dagster.
"""
