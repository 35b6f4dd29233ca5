"""Validation against the vendored official spec (tests/spec/portone-v1.openapi.json).

Bridging rules, applied at load time (the file itself is never edited):
* numeric keywords the document writes as strings ("maxLength": "32") become numbers;
* Swagger 2.0 has no ``nullable``: the live API sends ``null`` for absent
  values, so a property that is not ``required`` may be null. Required ones may not.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path

import jsonschema

SPEC_PATH = Path(__file__).parent / "spec" / "portone-v1.openapi.json"
NUMERIC = {"maxLength", "minLength", "maximum", "minimum", "maxItems", "minItems"}


@lru_cache(maxsize=1)
def spec() -> dict:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def _bridge(node):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in NUMERIC and isinstance(v, str):
                v = float(v) if "." in v else int(v)
            elif k in ("description", "example", "x-portone-per-pg"):
                continue
            else:
                v = _bridge(v)
            out[k] = v
        if isinstance(out.get("properties"), dict):
            required = set(out.get("required", []))
            out["properties"] = {
                name: (sch if name in required else {"anyOf": [{"type": "null"}, sch]})
                for name, sch in out["properties"].items()}
        return out
    if isinstance(node, list):
        return [_bridge(x) for x in node]
    return node


@lru_cache(maxsize=1)
def definitions() -> dict:
    return _bridge(copy.deepcopy(spec()["definitions"]))


def _template_regex(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")


def operation(method: str, path: str) -> tuple[str, dict]:
    """The spec operation for a concrete path (literal paths win over templates)."""
    paths = spec()["paths"]
    method = method.lower()
    candidates = []
    for template, ops in paths.items():
        if method in ops and _template_regex(template).match(path):
            candidates.append((template.count("{"), template))
    if not candidates:
        # /payments/find/{merchant_uid}/{payment_status}: payment_status is optional in the spec
        for template, ops in paths.items():
            if method in ops and template.endswith("/{payment_status}") and \
                    _template_regex(template[: -len("/{payment_status}")]).match(path):
                candidates.append((9, template))
    if not candidates:
        raise AssertionError(f"{method.upper()} {path} is not in the official spec")
    template = sorted(candidates)[0][1]
    return template, paths[template][method]


def validate_response(method: str, path: str, http_status: int, body: dict) -> None:
    """The sandbox's reply must be what the spec says for that operation and status."""
    template, op = operation(method, path)
    assert str(http_status) in op["responses"], \
        f"{method} {template}: HTTP {http_status} is not a documented status ({sorted(op['responses'])})"
    assert isinstance(body, dict) and isinstance(body.get("code"), int), f"no envelope: {body!r}"
    assert body.get("message") is None or isinstance(body["message"], str)
    if body["code"] != 0:
        assert body.get("response") is None, "an error envelope carries no response"
        assert body.get("message"), "an error envelope says why"
        return
    schema = op["responses"][str(http_status)].get("schema")
    if schema is None:
        return
    full = {"$ref": schema["$ref"], "definitions": definitions()} if "$ref" in schema else \
        {**_bridge(schema), "definitions": definitions()}
    jsonschema.Draft4Validator(full).validate(body)


_TYPES = {"integer": int, "number": (int, float), "string": str, "boolean": bool, "array": list}


def validate_request(method: str, path: str, query: dict[str, list[str]], body: dict | None) -> None:
    """A request the client sent must use the spec's parameter names, places and types."""
    template, op = operation(method, path)
    params = {p["name"]: p for p in op.get("parameters", [])}
    for name, values in query.items():
        assert name in params and params[name]["in"] == "query", f"{method} {template}: query {name!r} not in spec"
        p = params[name]
        for v in values:
            if p["type"] == "integer":
                assert re.fullmatch(r"-?\d+", v), f"{name}={v!r} is not an integer"
            if "enum" in p:
                assert v in p["enum"], f"{name}={v!r} not in {p['enum']}"
            if "maximum" in p:
                assert int(v) <= int(p["maximum"]), f"{name}={v} above maximum {p['maximum']}"
            if "minimum" in p:
                assert int(v) >= int(p["minimum"]), f"{name}={v} below minimum {p['minimum']}"
    for name, value in (body or {}).items():
        assert name in params and params[name]["in"] == "formData", f"{method} {template}: body {name!r} not in spec"
        expected = _TYPES[params[name]["type"]]
        assert isinstance(value, expected) and not (params[name]["type"] in ("integer", "number")
                                                     and isinstance(value, bool)), \
            f"{method} {template}: {name}={value!r} is not {params[name]['type']}"
    for name, p in params.items():
        if p.get("required") and p["in"] in ("query", "formData"):
            present = name in query if p["in"] == "query" else name in (body or {})
            assert present, f"{method} {template}: required {name!r} missing"
