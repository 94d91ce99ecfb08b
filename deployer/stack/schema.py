"""Check a loaded stack against schemas/stack.schema.json and explain each failure in place.

jsonschema's own messages name JSON values, not places in a file, and say nothing useful for
`oneOf`; here each error becomes a Diagnostic at the line of the offending key or value, with
"did you mean" for misspelled keys and enum values.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from deployer.errors import Diagnostic
from deployer.stack.loader import LoadedDocument, PathKey, format_path


def schema_text() -> str:
    """The JSON Schema as shipped (`deploy schema` prints exactly this)."""
    return (resources.files("deployer") / "data" / "stack.schema.json").read_text(encoding="utf-8")


@functools.cache
def schema() -> dict[str, Any]:
    return json.loads(schema_text())


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


@functools.cache
def _fast_check() -> Any:
    from deployer.stack.fastcheck import compile_schema

    return compile_schema(schema())


def check_schema(doc: LoadedDocument) -> list[Diagnostic]:
    if _fast_check()(doc.data):
        return []  # the common case; jsonschema below only to explain what is wrong
    from deployer.stack.spellings import fix_enum_case

    # Enum values in another case (`TaskSuccess` for `tasksuccess`) are accepted: rewritten to the
    # schema's spelling in the document, which may then be valid (fixing one can uncover another
    # behind an `if`, hence the few rounds).
    for _ in range(3):
        if not fix_enum_case(doc, _validator().iter_errors(doc.data)):
            break
        if _fast_check()(doc.data):
            return []
    diagnostics: list[Diagnostic] = []
    for error in _validator().iter_errors(doc.data):
        diagnostics.extend(_explain(error, doc))
    return _dedupe(diagnostics)


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[int, int, str]] = set()
    out = []
    for d in diagnostics:
        key = (d.line, d.column, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _at(doc: LoadedDocument, path: PathKey, message: str, *, key: bool = False) -> Diagnostic:
    pos = doc.source.key(path) if key else doc.source.value(path)
    return Diagnostic(doc.source.file, pos.line, pos.column, message, format_path(path))


def _explain(error: Any, doc: LoadedDocument) -> Iterator[Diagnostic]:
    path: PathKey = tuple(error.absolute_path)
    validator = error.validator
    instance = error.instance
    sub = error.schema if isinstance(error.schema, dict) else {}
    custom = sub.get("x-error-message") if isinstance(sub, dict) else None

    if validator in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        allowed = sorted(sub.get("properties", {}))
        patterns = sub.get("patternProperties", {})
        for name in _unexpected_keys(instance, allowed, patterns):
            yield _at(doc, (*path, name), _unknown_key_message(name, allowed, path), key=True)
        return
    if "propertyNames" in error.schema_path:
        # A bad key: jsonschema reports it at the parent map with the key as the instance.
        parent = doc_get(doc.data, path)
        at_key = (*path, instance) if isinstance(parent, dict) and instance in parent else path
        rule = custom or (f"names must match {error.validator_value}" if validator == "pattern" else error.message)
        yield _at(doc, at_key, f"{instance!r} is not a valid name here: {rule}", key=True)
        return
    if validator == "required":
        missing = [m for m in error.validator_value if m not in instance]
        for name in missing:
            yield _at(doc, path, custom or f"missing required key {name!r}{_in_what(path)}")
        return
    if validator == "enum":
        options = [str(o) for o in error.validator_value]
        hint = _did_you_mean(str(instance), options)
        yield _at(doc, path, f"{instance!r} is not one of {', '.join(options)}{hint}")
        return
    if validator == "const":
        yield _at(doc, path, f"must be {error.validator_value!r}")
        return
    if validator == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else expected
        yield _at(doc, path, custom or f"expected {_article(expected_text)}, got {_json_type(instance)}")
        return
    if validator in ("oneOf", "anyOf"):
        yield from _explain_alternatives(error, doc, path, custom)
        return
    if validator == "pattern":
        yield _at(doc, path, custom or f"{instance!r} does not match the expected format {error.validator_value}")
        return
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most",
                 "exclusiveMinimum": "more than", "exclusiveMaximum": "less than"}
        yield _at(doc, path, f"{instance!r} must be {words[validator]} {error.validator_value}")
        return
    if validator in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"):
        yield _at(doc, path, custom or _size_message(validator, error.validator_value, instance))
        return
    if validator in ("not",) and custom:
        yield _at(doc, path, custom)
        return
    if validator == "uniqueItems":
        yield _at(doc, path, "the list holds the same item twice; items must be unique")
        return
    yield _at(doc, path, custom or error.message)


def _explain_alternatives(error: Any, doc: LoadedDocument, path: PathKey, custom: str | None) -> Iterator[Diagnostic]:
    """`oneOf` fails either because no branch fits or because several do; say which, usefully."""
    if custom:
        yield _at(doc, path, custom)
        return
    branches = error.validator_value
    instance = error.instance
    # "exactly one of these keys" branches: {required: [k]} — explain in those words.
    keys = [b["required"][0] for b in branches if isinstance(b, dict) and list(b) == ["required"]
            and len(b.get("required", [])) == 1]
    if keys and len(keys) == len(branches) and isinstance(instance, dict):
        present = [k for k in keys if k in instance]
        if present:
            yield _at(doc, path, f"give only one of {', '.join(keys)} (found {', '.join(present)})")
        else:
            yield _at(doc, path, f"give one of {', '.join(keys)}{_in_what(path)}")
        return
    # Otherwise take the branch that got furthest: its errors are the most relevant.
    context = list(error.context or [])
    if context:
        from jsonschema.exceptions import best_match

        best = best_match(context)
        if best is not None:
            yield from _explain(best, doc)
            return
    yield _at(doc, path, f"matches more than one allowed form{_in_what(path)}"
              if error.message.endswith("is valid under each of") or "valid under each" in error.message
              else f"does not match any allowed form{_in_what(path)}")


def doc_get(data: Any, path: PathKey) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _unexpected_keys(instance: dict[str, Any], allowed: list[str], patterns: dict[str, Any]) -> list[str]:
    import re

    out = []
    for name in instance:
        if name in allowed:
            continue
        if any(re.search(p, name) for p in patterns):
            continue
        out.append(name)
    return out


def _unknown_key_message(name: str, allowed: list[str], path: PathKey) -> str:
    hint = _did_you_mean(name, allowed)
    if not hint and allowed:
        shown = ", ".join(allowed[:12]) + (", …" if len(allowed) > 12 else "")
        hint = f"; allowed keys: {shown}"
    return f"unknown key {name!r}{_in_what(path)}{hint}"


def _did_you_mean(word: str, options: list[str]) -> str:
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return f"; did you mean {lowered[word.lower()]!r}?"
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {lowered[close[0]]!r}?" if close else ""


# What the object at a path is, for messages ("unknown key 'vmsize' in pool 'p1'").
_CONTAINERS = {
    "pools": "pool",
    "jobs": "job",
    "jobSchedules": "job schedule",
    "storageAccounts": "storage account",
    "batchAccounts": "Batch account",
    "networks": "network",
    "subnets": "subnet",
    "applications": "application",
    "fileShares": "file share",
}


def _in_what(path: PathKey) -> str:
    if not path:
        return " at the top level of the stack"
    if len(path) >= 2 and isinstance(path[-2], str) and path[-2] in _CONTAINERS:
        return f" in {_CONTAINERS[path[-2]]} {path[-1]!r}"
    last = path[-1]
    return f" in {last!r}" if isinstance(last, str) else ""


def _article(text: str) -> str:
    if text in ("object",):
        return "a mapping"
    if text in ("array",):
        return "a list"
    if text in ("integer",):
        return "an integer"
    return f"{'an' if text[:1] in 'aeiou' else 'a'} {text}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _size_message(validator: str, limit: int, instance: Any) -> str:
    what = "characters" if "Length" in validator else "items" if "Items" in validator else "keys"
    bound = "at least" if validator.startswith("min") else "at most"
    return f"must have {bound} {limit} {what}"
