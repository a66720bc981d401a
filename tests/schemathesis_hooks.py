"""What schemathesis needs to know of our OpenAPI document beyond JSON Schema: the rules the document
states as vendor extensions (JSON Schema cannot relate two parameters, nor know which values an API issued or lists).
Loaded with SCHEMATHESIS_HOOKS=tests.schemathesis_hooks; only positive (schema-valid) cases are touched, so the
negative phases still send every kind of bad value.

- `x-later-than: OTHER` on a parameter: a valid request has it later than OTHER when both are given.
- `x-issued-by: FIELD` on a parameter: only values the API itself gave in FIELD are valid, so a generated value
  is never a valid one: positive cases go without it (our own tests page with real cursors).
- `x-listed-by: OPERATION` on a parameter: only values that operation lists now are valid (the sites change at run
  time, so they are no enum); a generated value is hardly ever one, so positive cases go without it too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import schemathesis


def parameters(context: Any) -> list[dict[str, Any]]:
    operation = getattr(context, "operation", None)
    return operation.definition.raw.get("parameters", []) if operation is not None else []


def is_positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is None or meta.generation.mode.is_positive


def moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    if not is_positive(case) or not case.query:
        return True
    for parameter in parameters(context):
        other = parameter.get("x-later-than")
        if other and parameter["name"] in case.query and other in case.query:
            later, earlier = moment(case.query[parameter["name"]]), moment(case.query[other])
            if later is not None and earlier is not None and later <= earlier:
                return False
    return True


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    if is_positive(case) and case.query:
        for parameter in parameters(context):
            if parameter.get("x-issued-by") or parameter.get("x-listed-by"):
                case.query.pop(parameter["name"], None)
    return case
