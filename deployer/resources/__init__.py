"""Resource kinds: one module per kind with its canonical forms and its diff-rule table.

Each module (`pool`, `job`, `job_schedule`, `batch_account`, `application`, `storage_account`,
`container`, `file_share`, `network`) exposes

* `canonical_desired(spec, context, address)` — a stack spec (logical references, secret
  references, maps for metadata) in canonical form, references resolved through a `DiffContext`;
* `canonical_live(rest_json)` — Azure's REST JSON for the resource (what the SDK models' `as_dict()`
  / `serialize(keep_readonly=True)` give, or the emulator returns) in the same canonical form;
* `RULES` — its `KindRules` table: how each field compares, and what changing it does.

`rules_for(kind)` finds a kind's table. Shared pieces: `normalize` (comparison keys, structural
forms, markers, fingerprints, paths), `rules` (the table types), `ownership` (the `deployer.stack`
marker and fingerprints recorded on resources). Nothing here imports an Azure SDK.
"""

from __future__ import annotations

from deployer.resources import (
    application,
    batch_account,
    container,
    file_share,
    identity,
    job,
    job_schedule,
    network,
    pool,
    security_group,
    storage_account,
    upload,
)
from deployer.resources.rules import KindRules
from deployer.stack.model import Kind

__all__ = ["RULES_BY_KIND", "rules_for"]

RULES_BY_KIND: dict[Kind, KindRules] = {
    module.RULES.kind: module.RULES
    for module in (network, storage_account, container, file_share, batch_account, application, pool, job,
                   job_schedule, upload, security_group, identity)
}


def rules_for(kind: Kind | str) -> KindRules:
    return RULES_BY_KIND[Kind(kind)]
