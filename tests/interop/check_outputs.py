"""Reads the outputs of a mim6 run with other engines.

Every OSCAL document in OUTPUT/oscal/ is loaded with compliance-trestle's models (which reject
anything their schema does not allow); every table in OUTPUT/tables/ is read from its Parquet
partitions with pyarrow, its row count compared with run.json and its values with the CSV twin.

    python tests/interop/check_outputs.py OUTPUT

Exits non-zero at the first disagreement. Needs compliance-trestle and pyarrow (PyPI).
"""

import csv
import json
import pathlib
import sys

import pyarrow as pa
import pyarrow.dataset as ds
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog
from trestle.oscal.poam import PlanOfActionAndMilestones

MODELS = {
    "assessment-results": AssessmentResults,
    "plan-of-action-and-milestones": PlanOfActionAndMilestones,
    "catalog": Catalog,
}


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def check_oscal(out):
    for path in sorted((out / "oscal").glob("*.json")):
        root = next(k for k in json.loads(path.read_text()) if k != "$schema")
        model = MODELS[root].oscal_read(path)
        if model is None:
            fail(f"{path.name}: trestle read nothing")
        print(f"trestle read {path.name}: {type(model).__name__} {model.uuid}")


def canonical(value, arrow_type):
    """A cell as comparable text: CSV text and Parquet values meet here."""
    if value is None or value == "":
        return ""
    if pa.types.is_floating(arrow_type):
        return f"{float(value):.9g}"
    if pa.types.is_integer(arrow_type):
        return str(int(float(value)))
    if pa.types.is_boolean(arrow_type):
        return str(value).lower()
    return str(value)


def check_tables(out):
    counts = json.loads((out / "run.json").read_text())["tables"]
    for name, rows in sorted(counts.items()):
        folder = out / "tables" / name
        dataset = ds.dataset(folder, format="parquet", partitioning="hive")
        table = dataset.to_table()
        if table.num_rows != rows:
            fail(f"{name}: pyarrow read {table.num_rows} rows, run.json says {rows}")
        with open(out / "tables" / f"{name}.csv", newline="") as f:
            expected = list(csv.DictReader(f))
        if len(expected) != rows:
            fail(f"{name}: {len(expected)} CSV rows, run.json says {rows}")
        # Values: the rows as sets (partitions are read in folder order), every column.
        if rows:
            types = {f.name: f.type for f in table.schema}
            columns = [c for c in expected[0].keys() if c in types]
            from_parquet = sorted(
                tuple(canonical(row[c], types[c]) for c in columns) for row in table.to_pylist()
            )
            from_csv = sorted(tuple(canonical(row[c], types[c]) for c in columns) for row in expected)
            if from_parquet != from_csv:
                differ = sum(1 for a, b in zip(from_parquet, from_csv) if a != b)
                fail(f"{name}: {differ} rows differ between the Parquet and the CSV table")
        print(f"pyarrow read {name}: {rows} rows")


def main():
    out = pathlib.Path(sys.argv[1])
    check_oscal(out)
    check_tables(out)


if __name__ == "__main__":
    main()
