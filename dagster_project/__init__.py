"""recurwise: the warehouse's Dagster project (README "Layout")."""

import warnings

# Great Expectations imports pyspark when it is installed, and pyspark 4.3 warns on import
# that it does not fully support the locked pandas 3: on every build's console, DuckDB
# builds too. Nothing here hands data to Spark through pandas (Arrow only: docs/spark.md).
# pytest restores its own filters after collecting, so pyproject.toml names it again.
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)
