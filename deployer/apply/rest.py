"""Desired state → the REST bodies writers send, and the fingerprints they record.

A kind's canonical desired form (`rules.canonical_desired`, references resolved through an
`ApplyContext`) is turned back into Azure's REST shape: keyed maps become lists again, metadata
maps `[{name, value}]`, `userAssignedIdentities` lists maps, durations ISO 8601. Write-only values
are sent as they are (secrets with their resolved value) and a fingerprint of each is recorded,
keyed the way the diff compares it, under its canonical path. Nothing here prints or logs a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from deployer.errors import ApplyError
from deployer.resources import normalize as n
from deployer.resources.rules import KindRules, Node, fingerprint_for_field

_HMS = re.compile(r"^(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?$")
#: keys of task-like objects whose values are durations (tasks are not in the rule tables)
DURATION_KEYS = frozenset({"maxWallClockTime", "retentionTime", "resizeTimeout", "evaluationInterval",
                           "startWindow", "recurrenceInterval"})


def iso_duration(value: Any) -> Any:
    """`02:00:00` or `1.02:00:00` → `PT2H` / `P1DT2H`; anything else as it is."""
    if isinstance(value, str) and _HMS.match(value.strip()):
        ticks = n.duration_ticks(value)
        if ticks is not None:
            return n.format_duration(ticks)
    return value


def iso_durations(value: Any) -> Any:
    """Every duration under a DURATION_KEYS key of plain data, in ISO 8601."""
    if isinstance(value, Mapping):
        return {k: iso_duration(v) if k in DURATION_KEYS else iso_durations(v) for k, v in value.items()}
    if isinstance(value, list):
        return [iso_durations(v) for v in value]
    return value


def reveal(value: Any, where: str) -> Any:
    """A desired value to send: a secret's resolved value; an unknown one is an error."""
    if isinstance(value, n.Secret):
        if value.value is None:
            raise ApplyError(f"{where}: the secret {value.ref} could not be resolved")
        return value.value
    if isinstance(value, n.Unknown):
        raise ApplyError(f"{where}: {value.what or 'a value'} is still unknown at apply time")
    return value


def to_rest(value: Any, rules: KindRules, recorded: dict[str, str], *, where: str = "",
            metadata_as_map: bool = False) -> Any:
    """The REST form of a canonical desired document; fingerprints of write-only values go to
    `recorded` (canonical path → fingerprint)."""
    return _walk(value, rules.tree, (), recorded, rules, where, metadata_as_map)


def _walk(value: Any, node: Node, path: tuple[str | int, ...], recorded: dict[str, str], rules: KindRules,
          where: str, metadata_as_map: bool) -> Any:
    rule = node.rule
    if rule is not None and rule.write_only and path != ("tasks",):
        plain = _plain(value, f"{where}: {n.format_path(path)}")
        recorded[n.format_path(path)] = fingerprint_for_field(rules, path, plain)
        return iso_durations(plain) if rule.key is not n.duration else iso_duration(plain)
    if n.is_marker(value):
        return reveal(value, f"{where}: {n.format_path(path)}")
    if isinstance(value, Mapping):
        out = {str(k): _walk(v, node.child(str(k)), (*path, str(k)), recorded, rules, where, metadata_as_map)
               for k, v in value.items()}
        if rule is not None and rule.form is n.name_value_map:
            return out if metadata_as_map else [{"name": k, "value": v} for k, v in out.items()]
        if rule is not None and rule.form is not None and rule.form is not n.id_set:  # a keyed list
            return list(out.values())
        return out
    if isinstance(value, list | tuple):
        if rule is not None and rule.form is n.id_set:
            return {str(reveal(ident, where)): {} for ident in value}
        return [_walk(v, node.child(0), (*path, i), recorded, rules, where, metadata_as_map)
                for i, v in enumerate(value)]
    if rule is not None and rule.key is n.duration:
        return iso_duration(value)
    return value


def _plain(value: Any, where: str) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v, where) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    return reveal(value, where)


def for_service(body: Any, definition: str) -> Any:
    """A Batch service (data plane) request body in that API's spelling: enum values in its case
    (`terminateJob` → `terminatejob`), property names it spells otherwise (a task's
    `userIdentity.userName` → `username`). The stack has one spelling; each API gets its own."""
    from deployer import contracts

    return contracts.conform(body, contracts.document(contracts.BATCH_SERVICE).definition(definition))


def for_management(body: Any, definition: str) -> Any:
    """A Batch management (ARM) request body in that API's spelling (see `for_service`)."""
    from deployer import contracts

    return contracts.conform(body, contracts.document(contracts.BATCH_MANAGEMENT).definition(definition))
