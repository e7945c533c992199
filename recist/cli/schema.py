"""``recist schema``: print the JSON Schema of the case file (``recist.case/1``)."""

from __future__ import annotations

import argparse
import json

__all__ = ["register", "case_schema"]


def case_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a ``recist.case/1`` file, generated from the model."""
    from recist.model.case import Case  # noqa: PLC0415

    schema = Case.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://recist.example/schemas/recist.case-1.json"
    schema["title"] = "recist.case/1"
    # A non-target entry may also be written as its bare state ("present"): say so in the schema.
    schema["$defs"]["Timepoint"]["properties"]["non_targets"]["additionalProperties"] = {
        "anyOf": [{"$ref": "#/$defs/NonTargetState"}, {"$ref": "#/$defs/NonTargetEntry"}]
    }
    return schema


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("schema", help="print the JSON Schema of case files",
                                   description="Print the JSON Schema of recist.case/1 files.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(case_schema(), indent=2, sort_keys=True))
    return 0
