"""Other spellings of the same thing, accepted and rewritten to the stack's own before checking.

Users paste from three sources that spell Batch differently: the management (ARM) API, which the
stack format follows; the Batch service API and the az CLI samples built on it; and ARM
templates. What they mean is unambiguous, so refusing them only sends users hunting:

* Batch service API property names that differ from the management API's (`nodeAgentSKUId`,
  `enableInterNodeCommunication: true`, `maxTasksPerNode`) — accepted with a warning that names
  the stack's spelling, and rewritten, so the desired model only ever holds one;
* ARM's identity map `userAssignedIdentities: {<id>: {}}` — rewritten to the stack's list;
* enum values in another case (`uploadCondition: TaskSuccess`) — see `fix_enum_case`, run by
  the schema check only when the document does not validate as written (the fast path stays
  fast).

The rewrite happens in the loaded document itself (data and source map), before the schema and
the semantic checks, so diagnostics still point at the user's line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from deployer.errors import Diagnostic
from deployer.stack.loader import LoadedDocument, PathKey, format_path


@dataclass(frozen=True)
class Alias:
    """`alias` (another API's name) means the stack's `name`, with the value converted by `convert`."""

    alias: str
    name: str
    api: str  # whose spelling the alias is, for the warning
    convert: Callable[[Any], Any] = lambda value: value


def _enabled(value: Any) -> Any:
    return {True: "Enabled", False: "Disabled"}.get(value, value) if isinstance(value, bool) else value


#: Where in a pool each alias may appear (a path of keys below the pool) → the aliases there.
POOL_ALIASES: dict[tuple[str, ...], tuple[Alias, ...]] = {
    (): (
        Alias("enableInterNodeCommunication", "interNodeCommunication", "the Batch service API", _enabled),
        Alias("maxTasksPerNode", "taskSlotsPerNode", "the Batch service API (deprecated there)"),
    ),
    ("deploymentConfiguration", "virtualMachineConfiguration"): (
        Alias("nodeAgentSKUId", "nodeAgentSkuId", "the Batch service API"),
    ),
}


def normalize_spellings(doc: LoadedDocument) -> list[Diagnostic]:
    """Rewrite aliases and ARM identity maps in `doc` in place; a warning for each alias."""
    data = doc.data
    if not isinstance(data, dict):
        return []
    found: list[Diagnostic] = []
    accounts = data.get("batchAccounts")
    for account_name, account in (accounts.items() if isinstance(accounts, dict) else ()):
        if not isinstance(account, dict):
            continue
        account_path: PathKey = ("batchAccounts", account_name)
        _identity_map(doc, account, account_path)
        pools = account.get("pools")
        for pool_name, pool in (pools.items() if isinstance(pools, dict) else ()):
            if isinstance(pool, dict):
                pool_path = (*account_path, "pools", pool_name)
                found.extend(_pool_aliases(doc, pool, pool_path))
                _identity_map(doc, pool, pool_path)
    return found


def _pool_aliases(doc: LoadedDocument, pool: dict[str, Any], path: PathKey) -> Iterator[Diagnostic]:
    for where, aliases in POOL_ALIASES.items():
        parent: Any = pool
        for key in where:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        for alias in aliases:
            if alias.alias not in parent:
                continue
            at = (*path, *where, alias.alias)
            position = doc.source.key(at)
            if alias.name in parent:
                yield Diagnostic(doc.source.file, position.line, position.column,
                                 f"{alias.alias!r} ({alias.api}'s name) and {alias.name!r} both given; keep "
                                 f"only {alias.name!r}", format_path(at))
                continue
            yield Diagnostic(doc.source.file, position.line, position.column,
                             f"{alias.alias!r} is {alias.api}'s name; the stack spells it {alias.name!r} "
                             "(accepted as that; rename it to silence this warning)", format_path(at), "warning")
            _rename(doc, parent, (*path, *where), alias.alias, alias.name, alias.convert)


def _rename(doc: LoadedDocument, parent: dict[str, Any], path: PathKey, old: str, new: str,
            convert: Callable[[Any], Any]) -> None:
    scalar = not isinstance(parent[old], dict | list)
    items = [(new if key == old else key, convert(value) if key == old else value) for key, value in parent.items()]
    parent.clear()
    parent.update(items)
    _move_positions(doc, (*path, old), (*path, new), scalar)


def _move_positions(doc: LoadedDocument, old: PathKey, new: PathKey, scalar: bool) -> None:
    """The source map's entries at and below `old`, also under `new` (the alias's line)."""
    for table in (doc.source.values, doc.source.keys):
        if scalar:
            if old in table:
                table[new] = table[old]
            continue
        moved = {(*new, *key[len(old):]): position for key, position in table.items() if key[:len(old)] == old}
        table.update(moved)


def _identity_map(doc: LoadedDocument, owner: dict[str, Any], path: PathKey) -> None:
    """ARM's `userAssignedIdentities: {<id>: {}}` → the stack's `[<id>]` (ids keep their lines)."""
    identity = owner.get("identity")
    users = identity.get("userAssignedIdentities") if isinstance(identity, dict) else None
    if not isinstance(users, dict) or not all(value in (None, {}) for value in users.values()):
        return  # a map with values (principalId…) is a read-back, not a spec: the schema explains
    at: PathKey = (*path, "identity", "userAssignedIdentities")
    assert isinstance(identity, dict)
    identity["userAssignedIdentities"] = list(users)
    for index, resource_id in enumerate(users):
        position = doc.source.key((*at, resource_id))
        doc.source.values[(*at, index)] = position
        doc.source.keys[(*at, index)] = position


def fix_enum_case(doc: LoadedDocument, errors: Iterator[Any]) -> bool:
    """For each jsonschema `enum` error on a string that equals one allowed value but for case,
    write the allowed spelling into the document; True when anything changed."""
    changed = False
    for error in _leaves(errors):
        if error.validator != "enum" or not isinstance(error.instance, str):
            continue
        wanted = error.instance.lower()
        # The schema may list several spellings (`taskSuccess`, `tasksuccess`): the first is the API's.
        options = [o for o in error.validator_value if isinstance(o, str) and o.lower() == wanted]
        if not options or error.instance in error.validator_value:
            continue
        path = tuple(error.absolute_path)
        if not path:
            continue
        parent: Any = doc.data
        for part in path[:-1]:
            parent = parent[part]
        if parent[path[-1]] == error.instance:
            parent[path[-1]] = options[0]
            changed = True
    return changed


def _leaves(errors: Iterator[Any]) -> Iterator[Any]:
    for error in errors:
        yield error
        if error.context:
            yield from _leaves(iter(error.context))
