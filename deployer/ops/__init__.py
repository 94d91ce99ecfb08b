"""Day-2 views over a deployed stack, read-only, on any target: `deploy status`, `logs`, `wait`, `outputs`.

* `reader`  — the one live read they share: what the stack owns (its Batch accounts, pools, jobs,
  schedules) through the Batch data plane's efficient queries ($filter on the stack's ids,
  $select of the fields shown, node counts and task counts instead of lists), plus the few
  targeted lists a failure needs (failed tasks, failed nodes) and task-file tails;
* `status`  — that read as a document (`--format json`) or rich tables, once or `--watch`ed;
* `wait`    — polls until pools are steady and jobs have no active or running task;
* `logs`    — a task's files through get-task-file with byte ranges (`--follow` tails them);
* `outputs` — endpoints and ids per logical name, for later pipeline steps (never a secret);
* `nodes`   — the check `deploy apply --wait-for-nodes` runs on a pool it created.

Nothing here writes to Azure.

Exit codes (`deploy wait`, `deploy apply --wait`): 0 every task succeeded and no pool has an
allocation problem; 1 an error (bad input, Azure refused a read); 3 a task failed, or a pool has
resize errors or nodes in `starttaskfailed` / `unusable`; 4 the `--timeout` passed first. (2 is
`deploy plan --detailed-exitcode`'s "changes present".)

JSON documents (`deploy status --format json`, `deploy wait --format json`, `deploy outputs
--format json`) carry `"formatVersion": 1` and a `"kind"` (`status`, `outputs`); the rules are
the plan's (deployer.plan): readers accept extra keys, a rename, removal or change of meaning
bumps the version.
"""

from __future__ import annotations

FORMAT_VERSION = 1

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_FAILED = 3
EXIT_TIMEOUT = 4

__all__ = ["EXIT_ERROR", "EXIT_FAILED", "EXIT_OK", "EXIT_TIMEOUT", "FORMAT_VERSION"]
