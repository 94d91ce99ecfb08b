"""The generic diff engine: one desired resource and its live counterpart -> one `Change`.

`diff_resource` brings both sides to canonical form through the kind's functions, walks them with
the kind's rule table and decides the action. Nothing here knows a particular kind: what a field
means is data in `deployer.resources.<kind>.RULES`.

Comparison, field by field:

* a side that lacks a field stands for the field's default (`taskSlotsPerNode` absent is 1), and an
  object whose every value is a default equals its absence (Azure returning
  `networkConfiguration: {dynamicVnetAssignmentScope: none}` for a pool that set none is no change);
* values compare by the field's key (case, durations, formulas, ids...), lists in order unless the
  row says `unordered`, maps key by key — so a change is reported at the deepest path that differs
  (`scaleSettings.autoScale.formula`, `metadata.team`, `userAccounts.alice.elevationLevel`), and
  lists as a whole;
* write-only values compare against the fingerprint recorded on the live resource; one that cannot
  be checked (no fingerprint recorded, a secret that cannot be resolved now) is left unchanged and
  the change carries a warning saying so;
* a removal is planned as the row's explicit `removal` value (`startTask: {}`).

The action: any change to a REPLACE field replaces the resource; a change to an EMPTY_POOL field
updates in place when the pool has no nodes now, else drains it (`changeStrategy: drain`) or
replaces it (`replace`, the default); any other change updates in place; none is a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from deployer.plan.model import Action, Change, FieldChange
from deployer.resources import normalize as n
from deployer.resources.normalize import MISSING
from deployer.resources.rules import DiffContext, Effect, Field, KindRules, Node, StaticContext
from deployer.stack.model import Address, DesiredResource

__all__ = ["DiffContext", "StaticContext", "compare_tree", "diff_resource"]


@dataclass
class _Diff:
    path: tuple[str | int, ...]
    before: Any
    after: Any
    effect: Effect
    sensitive: bool


@dataclass
class _Walk:
    diffs: list[_Diff] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def compare(self, d: Any, live: Any, node: Node, path: tuple[str | int, ...], effect: Any) -> None:
        rule = node.rule
        if rule is not None:
            if rule.ignore:
                return
            if rule.effect is not None:
                effect = rule.effect
        if isinstance(d, n.NotRead) or isinstance(live, n.NotRead):
            return
        if d is MISSING and rule is not None and rule.unset == "keep":
            return
        if rule is not None and rule.write_only:
            self.write_only(d, live, node, path, effect)
            return
        default = rule.default if rule is not None else MISSING
        dv = d if d is not MISSING else default
        lv = live if live is not MISSING else default
        if dv is MISSING and lv is MISSING:
            return
        if _plain_mapping(dv) and _plain_mapping(lv):
            for key in _union(dv, lv):
                self.compare(dv.get(key, MISSING), lv.get(key, MISSING), node.child(key), (*path, key), effect)
            return
        if (dv is MISSING and _all_default(lv, node)) or (lv is MISSING and _all_default(dv, node)):
            return
        if _equal(dv, lv, node):
            return
        after = dv
        if d is MISSING and default is MISSING and rule is not None and rule.removal is not MISSING:
            after = rule.removal
        self.emit(path, lv, after, effect)

    def write_only(self, d: Any, live: Any, node: Node, path: tuple[str | int, ...], effect: Any) -> None:
        rule = node.rule
        assert rule is not None
        dv = d if d is not MISSING else rule.default
        where = n.format_path(path)
        if isinstance(live, n.Fingerprint):
            if dv is MISSING:
                self.emit(path, live, rule.removal if rule.removal is not MISSING else MISSING, effect)
            elif isinstance(dv, n.Secret):
                if dv.value is not None and not n.fingerprint_matches(rule.key(dv.value), live.recorded):
                    self.emit(path, live, dv, effect)
            elif isinstance(dv, n.Unknown) or not n.fingerprint_matches(rule.key(dv), live.recorded):
                self.emit(path, live, dv, effect)
        elif live is MISSING:
            if dv is MISSING or isinstance(dv, n.Unknown):
                if isinstance(dv, n.Unknown):
                    self.emit(path, live, dv, effect)
                return
            if isinstance(dv, n.Secret):
                if dv.value is not None:
                    self.notes.append(f"{where}: no fingerprint of the secret is recorded on the live resource, "
                                      "so a change to it cannot be seen; apply will not rewrite it")
            elif rule.default is MISSING or rule.key(dv) != rule.key(rule.default):
                self.notes.append(f"{where}: Azure does not return it and no fingerprint is recorded, "
                                  "so it was not compared")
        else:  # Azure returned the value after all: compare it directly
            if isinstance(dv, n.Secret):
                if dv.value is not None and rule.key(dv.value) != rule.key(live):
                    self.emit(path, n.Fingerprint("", sensitive=True), dv, effect)
            elif dv is MISSING or not _same(dv, live, rule.key):
                self.emit(path, live, dv, effect)

    def emit(self, path: tuple[str | int, ...], before: Any, after: Any, effect: Any) -> None:
        shown_before, shown_after = n.display(before), n.display(after)
        if callable(effect) and not isinstance(effect, Effect):
            effect = effect(shown_before, shown_after)
        if effect is None:
            effect = Effect.UPDATE
        sensitive = isinstance(after, n.Secret) or (isinstance(before, n.Fingerprint) and before.sensitive)
        self.diffs.append(_Diff(path, shown_before, shown_after, effect, sensitive))


def compare_tree(wanted: Any, found: Any, tree: Node) -> list[tuple[str, Any, Any, str, bool]]:
    """The differences of two canonical documents under a rule tree that is not a kind's (a job's
    tasks): (path, before, after, effect value, sensitive) per differing field."""
    walk = _Walk()
    walk.compare(wanted, found, tree, (), None)
    return [(n.format_path(d.path), d.before, d.after, Effect(d.effect).value, d.sensitive) for d in walk.diffs]


def _same(a: Any, b: Any, key: n.Key) -> bool:
    """Equality of two plain values by a key (containers as canonical JSON)."""
    if isinstance(a, Mapping | list | tuple) or isinstance(b, Mapping | list | tuple):
        return bool(n.canonical_json(n.display(a)) == n.canonical_json(n.display(b)))
    return bool(key(a) == key(b))


def _plain_mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


def _union(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[str]:
    return [*first, *(k for k in second if k not in first)]


def _all_default(value: Any, node: Node) -> bool:
    """Whether a value says nothing but defaults (so it equals its absence)."""
    rule = node.rule
    if rule is not None and rule.ignore:
        return True
    if isinstance(value, n.NotRead):
        return True
    if n.is_marker(value):
        return False
    if rule is not None and rule.default is not MISSING and _equal(value, rule.default, node):
        return True
    if isinstance(value, Mapping):
        return all(_all_default(v, node.child(k)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return not value
    return False


def _equal(a: Any, b: Any, node: Node) -> bool:
    if isinstance(a, n.Unknown) or isinstance(b, n.Unknown):
        return False
    if isinstance(a, n.Secret) and isinstance(b, str):
        # A secret in a field Azure returns (a SAS URL): compared by its value, which is never shown;
        # one that cannot be resolved now is not compared (apply resolves it again).
        key = node.rule.key if node.rule is not None else n.exact
        return a.value is None or bool(key(a.value) == key(b))
    if n.is_marker(a) or n.is_marker(b):
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        walk = _Walk()
        walk.compare(a, b, node, (), Effect.UPDATE)
        return not walk.diffs
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return False
        item = _items(node)
        if node.rule is not None and node.rule.unordered:
            remaining = list(b)
            for x in a:
                match = next((i for i, y in enumerate(remaining) if _equal(x, y, item)), None)
                if match is None:
                    return False
                remaining.pop(match)
            return True
        return all(_equal(x, y, item) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping | list | tuple) or isinstance(b, Mapping | list | tuple):
        return False
    key = node.rule.key if node.rule is not None else n.exact
    return bool(key(a) == key(b))


_ITEM_NODES: dict[Any, Node] = {}


def _items(node: Node) -> Node:
    """The node for a list's items: the `[]` rows, or else the list's own key for scalar items
    (`addressSpace`, `identity.userAssignedIdentities`)."""
    item = node.child(0)
    if item.rule is not None or item.children or node.rule is None or node.rule.key is n.exact:
        return item
    if node.rule.key not in _ITEM_NODES:
        scalar = Node()
        scalar.rule = Field(node.rule.path + "[]", key=node.rule.key)
        _ITEM_NODES[node.rule.key] = scalar
    return _ITEM_NODES[node.rule.key]


def _unresolved(value: Any, path: tuple[str | int, ...] = (), context: Any = None) -> list[str]:
    """Warnings for secrets the plan could not resolve (apply will need them)."""
    if isinstance(value, n.Secret) and value.value is None:
        what = value.ref if value.ref.startswith("the ") else f"the secret {value.ref}"
        if getattr(context, "no_secrets", False):
            return [f"{n.format_path(path)}: {what} was not compared (--no-secrets: nothing was resolved)"]
        return [f"{n.format_path(path)}: {what} could not be resolved while planning, so it was not compared; "
                "apply resolves it again"]
    if isinstance(value, Mapping):
        return [w for k, v in value.items() for w in _unresolved(v, (*path, k), context)]
    return []


def _rules(kind: KindRules | ModuleType) -> KindRules:
    rules = getattr(kind, "RULES", kind)
    if not isinstance(rules, KindRules):
        raise TypeError(f"{kind!r} is not a resource kind module")
    return rules


def _etag(live: Mapping[str, Any] | None) -> str | None:
    if not live:
        return None
    value = live.get("etag") or live.get("eTag") or live.get("ETag")
    return str(value) if value else None


def _live_name(live: Mapping[str, Any]) -> str | None:
    """The Azure name of a live resource: `name` (ARM) or `id` (Batch data plane)."""
    value = live.get("name") or live.get("id")
    return value.rstrip("/").rsplit("/", 1)[-1] if isinstance(value, str) and value else None


def _top_level(document: Mapping[str, Any], rules: KindRules, desired: Mapping[str, Any] | None) -> dict[str, Any]:
    """The managed part of a canonical live document: table fields and fields the stack sets."""
    keep = set(rules.tree.children) | set(desired or {})
    return {k: v for k, v in document.items() if k in keep}


def _names(paths: list[str], limit: int = 4) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def diff_resource(
    kind: KindRules | ModuleType,
    desired: DesiredResource | Mapping[str, Any] | None,
    live: Mapping[str, Any] | None,
    context: DiffContext,
    *,
    address: Address | str | None = None,
    name: str | None = None,
) -> Change:
    """Compare one resource. `desired` is the stack's resource (or a bare spec, then `address` is
    needed), None when the stack no longer has it; `live` its REST JSON, None when Azure has none."""
    rules = _rules(kind)
    spec: Mapping[str, Any] | None
    protect = False
    if isinstance(desired, DesiredResource):
        spec, where, protect = desired.spec, desired.address, desired.protect
        name = name or desired.name
    else:
        spec = desired
        if address is None:
            raise ValueError("diff_resource needs the address of a resource given as a bare spec")
        where = Address.parse(address) if isinstance(address, str) else address
        protect = bool(spec.get("protect")) if spec is not None else False
    if spec is None and live is None:
        raise ValueError(f"{where}: neither desired nor live: nothing to compare")
    name = name or str((live or {}).get("name") or (live or {}).get("id") or where.parts[-1])
    title = f"{rules.title} {name}"
    wanted = rules.canonical_desired(spec, context, where) if spec is not None else None
    etag = _etag(live)
    warnings = _unresolved(wanted, (), context) if wanted is not None else []

    if live is None:
        assert wanted is not None
        return Change(where, rules.kind, Action.CREATE, f"{title} does not exist yet", None, n.display(wanted),
                      warnings=tuple(warnings), name=name)
    found = _top_level(rules.canonical_live(live), rules, wanted)
    if wanted is None:
        losses = rules.loss(live) if rules.loss else []
        return Change(where, rules.kind, Action.DELETE, f"{title} is no longer in the stack",
                      n.display(found), None, warnings=tuple(losses), etag=etag, name=name)

    walk = _Walk()
    live_name = _live_name(live)
    if live_name is not None and n.ci(live_name) != n.ci(name):
        walk.emit(("name",), live_name, name, Effect.REPLACE)
    walk.compare(wanted, found, rules.tree, (), None)
    warnings.extend(walk.notes)
    if not walk.diffs:
        return Change(where, rules.kind, Action.NO_OP, f"{title} matches the stack", n.display(found),
                      n.display(wanted), warnings=tuple(warnings), etag=etag, name=name)

    forcing = [d for d in walk.diffs if d.effect == Effect.REPLACE]
    needs_empty = [d for d in walk.diffs if d.effect == Effect.EMPTY_POOL]
    empty_names = [n.format_path(d.path) for d in needs_empty]
    strategy = str(spec.get(rules.strategy_setting) or "replace") if rules.strategy_setting and spec else "replace"
    empty_now = bool(needs_empty) and rules.is_empty is not None and rules.is_empty(live)

    if forcing:
        action = Action.REPLACE
        paths = [n.format_path(d.path) for d in forcing]
        reason = f"{_names(paths)} cannot change on an existing {rules.title}"
        if needs_empty and not empty_now:
            paths += empty_names
    elif needs_empty and empty_now:
        action, paths = Action.UPDATE, []
        reason = (f"{_names(empty_names)} can change only while the pool has zero nodes; it has none now, so "
                  "they change in place")
        warnings.append("the pool must still have zero nodes when apply runs")
    elif needs_empty and strategy == "drain":
        action, paths = Action.DRAIN, empty_names
        reason = (f"{_names(empty_names)} can change only while the pool has zero nodes: it is scaled to zero, "
                  "updated and scaled back (changeStrategy: drain)")
    elif needs_empty:
        action, paths = Action.REPLACE, empty_names
        reason = (f"{_names(empty_names)} can change only while the pool has zero nodes: it is deleted and "
                  "created again (changeStrategy: replace)")
    else:
        action, paths = Action.UPDATE, []
        changed = list(dict.fromkeys(n.format_path(d.path[:1]) for d in walk.diffs))
        reason = f"{_names(changed)} {'differs' if len(changed) == 1 else 'differ'} from the stack"

    if action in (Action.REPLACE, Action.DRAIN) and rules.loss:
        warnings[:0] = rules.loss(live)
    if protect and action == Action.REPLACE:
        warnings.insert(0, f"{where} is protected (protect: true): apply refuses to replace it")
    replacing = action == Action.REPLACE
    fields = tuple(
        FieldChange(
            path=n.format_path(d.path),
            before=d.before,
            after=d.after,
            forces_replacement=replacing and (d.effect == Effect.REPLACE or d.effect == Effect.EMPTY_POOL
                                              and n.format_path(d.path) in paths),
            sensitive=d.sensitive,
            requires_empty_pool=d.effect == Effect.EMPTY_POOL,
        )
        for d in walk.diffs
    )
    return Change(where, rules.kind, action, reason, n.display(found), n.display(wanted), fields,
                  tuple(dict.fromkeys(paths)), tuple(dict.fromkeys(warnings)), etag, name)
