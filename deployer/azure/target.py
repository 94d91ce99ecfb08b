"""Which Azure a stack talks to: its `target:` block, or `--target` on the command line.

`--target local` runs any stack against the embedded emulator; nothing ever falls back to a
different target silently — a target that lacks what it needs is a usage error.
"""

from __future__ import annotations

import os
from pathlib import Path

from deployer.azure.clients import EMULATOR_SUBSCRIPTION, Clients
from deployer.errors import UsageError
from deployer.stack.model import Target

TARGET_KINDS = ("azure", "local", "emulator")


def clients_for(target: Target, base_dir: Path, override: str | None = None) -> Clients:
    kind = override or target.kind
    if kind not in TARGET_KINDS:
        raise UsageError(f"unknown target {kind!r}; use one of {', '.join(TARGET_KINDS)}")
    subscription = target.subscription or EMULATOR_SUBSCRIPTION
    if kind == "local":
        from deployer.emulator.agent.control import attach_local
        from deployer.emulator.core.store import resolve_data_dir

        data_dir = resolve_data_dir(None)
        if attach_local(data_dir, execute=target.execute):  # tasks run here, in a background agent
            _warn_if_root()
        return Clients.for_emulator_embedded(data_dir, subscription_id=subscription)
    if kind == "emulator":
        if not target.endpoint:
            raise UsageError("the emulator target needs `target.endpoint` (the URL `deploy emulator serve` printed)")
        ca_file = (base_dir / target.ca_file) if target.ca_file else None
        if ca_file is not None and not ca_file.is_file():
            raise UsageError(f"target.caFile {target.ca_file!r} not found (looked for {ca_file})")
        return Clients.for_emulator_served(target.endpoint, ca_file, subscription_id=subscription)
    if not target.subscription:
        raise UsageError("the azure target needs `target.subscription`")
    try:
        clients = Clients.for_azure(target.subscription, target.cloud)
    except ValueError as exc:  # unknown cloud name
        raise UsageError(str(exc)) from None
    from deployer.azure.login import check_sign_in

    check_sign_in(clients.credential, clients.cloud.name if clients.cloud else "AzureCloud")
    return clients


def _warn_if_root() -> None:
    """The local target runs the stack's commands as the user who runs deploy, never escalating:
    as root, an admin start task's `apt-get install` or a task's `rm -rf` changes this machine."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        from deployer.console import print_warning

        print_warning("deploy runs as root, so the local target runs this stack's task commands as root on "
                      "this machine; run it as a normal user, or set `target.execute: false` (or "
                      "DEPLOY_LOCAL_EXECUTE=0) to only pretend to run them")
