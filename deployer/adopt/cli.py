"""The `deploy import` and `deploy export` commands (registered on the main app by `register`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("export")(export_command)


def import_command(
    stack: Annotated[Path, typer.Argument(help="The stack file (YAML).", show_default=False)],
    address: Annotated[str | None, typer.Argument(
        help="The resource to adopt, e.g. batchAccounts.main.pools.p1 (with --all: an account, and what it holds).",
        show_default=False)] = None,
    azure_id: Annotated[str | None, typer.Argument(
        help="Its Azure resource id, checked against the stack (with --all: an account's or the resource "
             "group's id narrows the import to it).", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Adopt every declared resource that exists unowned.")] = False,
    target: Annotated[str | None, typer.Option("--target", help="local, emulator or azure (overrides the stack).",
                                               show_default=False)] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before writing the ownership markers.")] = False,
    lock_timeout: Annotated[float, typer.Option("--lock-timeout", min=0,
                                                help="Seconds to wait for another run of the stack.")] = 300.0,
    var_file: Annotated[list[Path] | None, typer.Option("--var-file", help="YAML mapping of template variables.",
                                                        show_default=False)] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="Template variable NAME=VALUE.",
                                                  show_default=False)] = None,
) -> None:
    """Adopt existing resources the stack declares: show how they differ, then mark them as owned."""
    from deployer.adopt.importer import adopt, find_imports
    from deployer.cli import _locked, _stack_and_clients, _variables
    from deployer.console import info

    if azure_id is None and address is not None and address.startswith("/subscriptions/") and all_:
        address, azure_id = None, address  # `--all /subscriptions/...`
    loaded, clients = _stack_and_clients(stack, target, _variables(var_file, var))
    with _locked(loaded, clients, lock_timeout, "text"):
        found = find_imports(loaded, clients, address, azure_id, all_=all_)
        sys.stdout.write(found.report())
        if not found.adoptions:
            raise typer.Exit(0)
        names = ", ".join(str(a.resource.address) for a in found.adoptions)
        _confirm(yes, f"Mark {names} as owned by stack {loaded.name}?")
        done = adopt(found)
    info(f"imported {len(done)} resource{'s' if len(done) != 1 else ''} into stack {loaded.name}: "
         f"{', '.join(map(str, done))}; `deploy plan` shows what the stack would still change")


def export_command(
    resource_group: Annotated[str, typer.Option("--resource-group", "-g", help="The resource group to export.",
                                                show_default=False)],
    target: Annotated[str, typer.Option("--target", help="local, emulator or azure.")] = "azure",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the stack here (default: stdout).",
                                             show_default=False)] = None,
    account: Annotated[str | None, typer.Option("--account", help="Only this Batch account (and its auto-storage).",
                                                show_default=False)] = None,
    stack_name: Annotated[str | None, typer.Option("--stack-name", help="The `stack:` name (default: the resource "
                                                   "group's name).", show_default=False)] = None,
    subscription: Annotated[str | None, typer.Option("--subscription", help="Azure subscription id (azure target).",
                                                     show_default=False)] = None,
    endpoint: Annotated[str | None, typer.Option("--endpoint", help="The served emulator's URL (emulator target).",
                                                 show_default=False)] = None,
    ca_file: Annotated[str | None, typer.Option("--ca-file", help="The served emulator's CA file.",
                                                show_default=False)] = None,
    location: Annotated[str | None, typer.Option("--location", help="target.location (default: the accounts').",
                                                 show_default=False)] = None,
    adopt_too: Annotated[bool, typer.Option("--import", help="Also adopt what was exported (needs --out): the "
                                            "resources become owned by the new stack, which then plans empty.")
                         ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="With --import: do not ask.")] = False,
) -> None:
    """Write the stack YAML for the live resources of a resource group (or one Batch account)."""
    from deployer.adopt.exporter import export_stack, to_yaml, write_stack
    from deployer.azure.target import clients_for
    from deployer.console import info
    from deployer.errors import UsageError
    from deployer.stack.model import Target

    if adopt_too and out is None:
        raise UsageError("--import needs --out: the stack file the resources are adopted into")
    name = stack_name or resource_group
    base = Path.cwd() if out is None else out.resolve().parent
    spec = Target(kind=target, subscription=subscription, resource_group=resource_group, location=location,
                  endpoint=endpoint, ca_file=ca_file)
    clients = clients_for(spec, base, target)
    block: dict[str, Any] = {"kind": target}
    if subscription:
        block["subscription"] = subscription
    block["resourceGroup"] = resource_group
    block["location"] = location or _location(clients, resource_group)
    if endpoint:
        block["endpoint"] = endpoint
    if ca_file:
        block["caFile"] = ca_file
    document, notes = export_stack(clients, resource_group, stack_name=name, target=block, account=account)
    text = to_yaml(document, notes)
    if out is None:
        sys.stdout.write(text)
        return
    write_stack(out, text)
    counts = _counts(document)
    info(f"wrote {out}: {counts}" + (f" ({len(notes)} note{'s' if len(notes) != 1 else ''} in the file)"
                                     if notes else ""))
    if adopt_too:
        import_command(out, None, None, all_=True, target=None, yes=yes, lock_timeout=300.0, var_file=None,
                       var=None)


def _location(clients: Any, resource_group: str) -> str:
    from deployer.resources.read import _call, rest

    group = rest(_call("resource group", lambda: clients.resource.resource_groups.get(resource_group)))
    return str(group.get("location") or "")


def _counts(document: dict[str, Any]) -> str:
    accounts = document.get("batchAccounts") or {}
    pools = sum(len(a.get("pools") or {}) for a in accounts.values())
    jobs = sum(len(a.get("jobs") or {}) for a in accounts.values())
    return (f"{len(document.get('networks') or {})} networks, {len(document.get('storageAccounts') or {})} storage "
            f"accounts, {len(accounts)} Batch accounts, {pools} pools, {jobs} jobs")


def _confirm(yes: bool, question: str) -> None:
    from deployer.console import confirm, info
    from deployer.errors import UsageError

    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to write ownership markers without confirmation: not on a terminal; pass --yes")
    if not confirm(question):
        info("Cancelled: nothing was changed.")
        raise typer.Exit(1)
