"""Plans: what `deploy plan` found and what `deploy apply` will do (DESIGN.md principle 3).

* `model` — the immutable data: `Plan` of `Change`s (`Action`, reason, before, after, the
  `FieldChange`s, the paths that force a replacement, warnings, the live ETag), with `to_json` /
  `from_json` for saved plans;
* `diff` — `diff_resource(kind, desired, live, context)`: one resource compared through its kind's
  rule table (`deployer.resources`) into one `Change`;
* `render` — `render_text`, `render_json`, `render_markdown`.

Nothing here imports an Azure SDK.

The JSON shape (`deploy plan --format json`, and `--out` files), format version 1
----------------------------------------------------------------------------------

    {
      "formatVersion": 1,
      "stack": "media",
      "target": {"kind": "azure", "subscription": "…", "resourceGroup": "rg-media", "location": "westeurope"},
      "changes": [
        {
          "address": "batchAccounts.main.pools.transcode",
          "kind": "pool",
          "name": "transcode",
          "action": "replace",
          "reason": "vmSize can change only while the pool has zero nodes: it is deleted and created again …",
          "before": {…} | null,
          "after": {…} | null,
          "fields": [
            {"path": "vmSize", "before": "STANDARD_D2A_V4", "after": "Standard_D4a_v4",
             "forcesReplacement": true, "requiresEmptyPool": true, "sensitive": false}
          ],
          "replacePaths": ["vmSize"],
          "warnings": ["4 nodes and 7 running tasks affected"],
          "etag": "W/\\"0x8D4EDFEBFADF4AB\\"" | null,
          "managed": true
        }
      ],
      "summary": {"add": 0, "change": 0, "replace": 1, "destroy": 0, "unchanged": 0},
      "validationWarnings": [
        {"file": "stack.yaml", "line": 31, "column": 13, "path": "batchAccounts.main.pools…",
         "message": "image …: Batch support ends on 2027-06-30 (in 180 days); …", "severity": "warning"}
      ],
      "notes": ["resource group rg-media does not exist: apply creates it in westeurope, …"]
    }

* `kind` — `network`, `storageAccount`, `container`, `fileShare`, `batchAccount`, `application`,
  `pool`, `job`, `jobSchedule`.
* `action` — `create`, `update` (in place), `drain` (a pool: scale to zero, update, restore the
  scale — `changeStrategy: drain`), `replace` (delete then create), `delete`, `no-op`.
* `before` / `after` — the live and the desired resource in canonical form (Azure's property
  names, or the stack's where they differ: a storage account's `sku` is the SKU name, a job's
  `pool` the pool id; metadata and tags as maps; lists with an identity as maps keyed by it;
  the deployer's own `deployer.*` markers left out). `before` is null for a create, `after` for a
  delete.
* `name` — the Azure name (account name, pool id...); `reason` — one line saying why this action.
* `fields` — each place that differs (empty for a create or a delete: `after` / `before` say it
  all), at the deepest path that does (`metadata.team`,
  `scaleSettings.autoScale.formula`, `userAccounts.alice.password`; map keys that are not plain
  names are quoted: `metadata["a.b"]`; lists are compared and reported whole). `before` is the live
  value (the default Azure applies when it returned none), `after` the desired one; a removal
  carries the explicit value the API needs (`startTask: {}`, `mountConfiguration: []`), null when
  the field just goes. `forcesReplacement`: this field is why the resource is replaced.
  `requiresEmptyPool`: Batch changes it only on a pool with zero nodes. `sensitive`: the value is a
  secret and both sides read `(sensitive)`.
* `replacePaths` — the fields that prevent an in-place update (forcing the replace, or the drain).
* `warnings` — what the change destroys or risks ("4 nodes and 7 running tasks affected", "all
  data in storage account st… is lost"), and what could not be checked (a secret without a recorded
  fingerprint).
* `etag` — the ETag of the live resource the change was planned against; apply refuses a saved
  plan when live state moved on.
* `managed` — false for a resource the stack declares that exists in Azure without being the
  stack's (no ownership marker, or another stack's; or inside such an account): a `no-op` whose
  `reason` says why and how to adopt it (`deploy import`).
* `summary` — counts: `add` (create), `change` (update, drain), `replace`, `destroy` (delete),
  `unchanged` (no-op).
* `validationWarnings` — what `deploy validate` warns about the stack (a retiring image or VM
  size, an API alias it rewrote), each as validate's JSON diagnostic; empty when there are none.
* `notes` — about the plan as a whole (a missing resource group that apply creates).
* `tasks` (jobs only; `deployer.plan.tasks`) — the job's tasks planned one by one: `total` (the
  stack's), `read` (whether the job's tasks were listed: only when the digest recorded on the job
  moved), `counts` (`add`, `replace`, `update`, `delete`, `keep`, `unchanged`), `add` and `delete`
  (every id), `replace` / `update` / `keep` (`{id, fields, state, note}`: the fields as above),
  `warnings`, `digest`. A job created or replaced adds every task (`add`); an updated or unchanged
  job changes only the tasks listed — a job whose only change is its tasks is an `update` with no
  `fields`.

Markers inside values: `"(sensitive)"` for a secret (never its value, in any format),
`"(known after apply)"` for a value that exists only once apply has created something (the id of a
subnet the same plan creates), `"(write-only: not returned by Azure)"` for a write-only setting
Azure does not return, `"(not read)"` for something the reader did not read.

Compatibility: version 1 readers accept files with extra keys; a change that renames or removes a
key, or changes a meaning, bumps `formatVersion`, and `Plan.from_json` refuses versions it does not
know with a clear `PlanError` (as it refuses malformed files).
"""

from __future__ import annotations

from deployer.plan.diff import DiffContext, StaticContext, diff_resource
from deployer.plan.model import FORMAT_VERSION, Action, Change, FieldChange, Plan, PlanTarget
from deployer.plan.render import render_json, render_markdown, render_text

__all__ = [
    "FORMAT_VERSION",
    "Action",
    "Change",
    "DiffContext",
    "FieldChange",
    "Plan",
    "PlanTarget",
    "StaticContext",
    "diff_resource",
    "render_json",
    "render_markdown",
    "render_text",
]
