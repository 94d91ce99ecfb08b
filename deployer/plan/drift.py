"""`deploy plan --refresh-only`: only the differences made outside batch-deployer (drift).

There is no state file, so every write records, next to the ownership marker, a digest of the
desired resource as it was applied (`deployer.fingerprint.applied`: SHA-256 of its canonical form
with secrets redacted — it holds no secret). A later plan then tells the two apart for each
resource that differs from the stack:

* the stack still digests to the recorded value → the stack did not change since it was applied,
  so the difference was made outside the tool: **drift**, kept in the plan;
* the digest differs (or none was recorded: applied by an older version) → a change of the stack
  not applied yet: left out of a refresh-only plan, and counted in a note.

Resources the stack declares that are missing are ambiguous without state (never applied, or
deleted outside): left out and counted too. Containers, file shares and applications carry no
marker and follow their account.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from deployer.plan.model import Action, Change, Plan
from deployer.resources import normalize as n
from deployer.resources.ownership import marker_place, read_markers

APPLIED = "applied"  # the fingerprint path: `deployer.fingerprint.applied`


def applied_digest(desired: Any) -> str:
    """The digest recorded when `desired` (a canonical desired document) is written."""
    text = n.canonical_json(n.display(desired))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def refresh_only(plan: Plan, stack: Any, live: Any, context: Any) -> Plan:
    """The plan narrowed to drift, with a note on what was left out and why."""
    from deployer.plan.planner import find_live
    from deployer.resources import rules_for

    kept: list[Change] = []
    pending = unknown = 0
    for change in plan.changes:
        if not change.is_change or not change.managed:
            kept.append(change)
            continue
        resource = stack.get(change.address)
        if change.action is Action.DELETE or change.action is Action.CREATE or resource is None:
            pending += 1
            continue
        if marker_place(change.kind) is None:
            unknown += 1
            continue
        body = find_live(stack, resource, live) or {}
        recorded = read_markers(change.kind, body)[1].get(APPLIED)
        rules = rules_for(change.kind)
        if recorded and recorded == applied_digest(rules.canonical_desired(resource.spec, context, resource.address)):
            kept.append(replace(change, reason=f"drift: changed outside batch-deployer since the last apply "
                                               f"({change.reason})"))
        else:
            pending += 1
    notes = list(plan.notes)
    if pending or unknown:
        notes.append(f"refresh-only: {pending} change(s) of the stack not applied yet and {unknown} without an "
                     "ownership marker of their own are left out; a plan without --refresh-only shows them")
    return replace(plan, changes=tuple(kept), notes=tuple(notes))
