"""`deploy convert`: Batch Shipyard configurations, `az batch … --json-file` documents, Batch CLI
extension templates and ARM/Bicep templates → a stack.

Each source format has its module (shipyard, batch_json, cli_template, arm) that maps what it
understands into the stack document and records findings; `fit` then removes whatever the stack
schema has no place for (recording it too), `emit` writes YAML with the findings as comments, and
the result is validated like any stack. Nothing here imports an Azure SDK.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deployer.convert import arm, batch_api, batch_json, cli_template, shipyard, skeleton
from deployer.convert.emit import to_yaml
from deployer.convert.fit import fit
from deployer.convert.model import Conversion, Finding
from deployer.errors import Diagnostic, StackError

__all__ = ["ConvertResult", "Finding", "convert_files", "batch_api"]


@dataclass
class ConvertResult:
    text: str
    conversion: Conversion
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def report(self) -> dict[str, Any]:
        return {"formatVersion": 1, "valid": self.ok, "sources": self.conversion.sources,
                "dropped": [f.to_json() for f in self.conversion.findings if f.kind == "dropped"],
                "secrets": [f.to_json() for f in self.conversion.findings if f.kind == "secret"],
                "review": [f.to_json() for f in self.conversion.findings if f.kind == "review"],
                "diagnostics": [d.as_dict() for d in self.diagnostics]}


def _read(path: Path) -> Any:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackError([Diagnostic(name, 0, 0, f"cannot read the file: {exc.strerror or exc}")]) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise StackError([Diagnostic(name, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")]) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise StackError([Diagnostic(name, line, col, f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise StackError([Diagnostic(name, 0, 0, f"not valid YAML: {exc}")]) from None


def convert_files(sources: list[Path], parameter_files: list[Path] | None = None,
                  name: str | None = None, out: Path | None = None) -> ConvertResult:
    conv = Conversion(sources=[str(p) for p in sources])
    parameters: dict[str, Any] = {}
    groups: dict[str, list[tuple[str, Any]]] = {"shipyard": [], "template": [], "json": [], "arm": []}
    for path in [*(parameter_files or []), *sources]:
        data = _read(path)
        label = path.name
        if isinstance(data, dict) and "deploymentParameters" in str(data.get("$schema", "")):
            parameters.update(data.get("parameters") or {})
        elif cli_template.is_parameters(data) or (path in (parameter_files or []) and isinstance(data, dict)):
            parameters.update(data)
        elif shipyard.is_shipyard(data):
            groups["shipyard"].append((label, data))
        elif cli_template.is_template(data):
            groups["template"].append((label, data))
        elif arm.is_arm(data):
            groups["arm"].append((label, data))
        elif batch_json.is_pool(data) or batch_json.is_job(data):
            groups["json"].append((label, data))
        else:
            raise StackError([Diagnostic(str(path), 1, 1, "not a format deploy convert reads: expected a Batch "
                                         "Shipyard config (pool_specification, job_specifications, credentials, "
                                         "batch_shipyard), a Batch pool or job JSON (id + vmSize/poolInfo), a "
                                         "Batch CLI extension template (pool/job with properties), a parameters "
                                         "file or an ARM template")])
    if name:
        skeleton.start(conv, name)
    if groups["shipyard"]:
        shipyard.convert(conv, groups["shipyard"])
    for file, data in groups["arm"]:
        arm.convert(conv, file, data, parameters)
    if groups["json"]:
        batch_json.convert(conv, groups["json"])
    if groups["template"]:
        cli_template.convert(conv, groups["template"], parameters)
    if not conv.stack:
        skeleton.start(conv, "converted")
    skeleton.batch_account(conv)
    skeleton.order(conv)
    from deployer.convert.modernize import modernize
    from deployer.stack.checks.lifecycle import today
    from deployer.stack.schema import schema

    modernize(conv, today())

    fit(conv, schema())
    template = out is not None and out.name.endswith(".j2")  # read as a template: escape `{{` and co.
    text = to_yaml(conv.stack, _comments(conv), _header(conv), template=template)
    return ConvertResult(text, conv, _validate(text, out))


def _header(conv: Conversion) -> list[str]:
    counts = {k: sum(1 for f in conv.findings if f.kind == k) for k in ("dropped", "secret", "review")}
    lines = [f"Converted by `deploy convert` from {', '.join(conv.sources)}.",
             f"{counts['dropped']} source settings could not be carried over (the `dropped:` comments say why),",
             f"{counts['secret']} secrets became references, {counts['review']} settings need a look (`review:`).",
             "Account names must be unique in Azure: pick your own before deploying there, and set",
             "target.kind to azure with a subscription to deploy to Azure.", ""]
    lines += [f"{f.kind}: {f.source}: {f.reason}" for f in conv.findings if not f.address]
    return lines


def _comments(conv: Conversion) -> dict[tuple[str | int, ...], list[str]]:
    comments: dict[tuple[str | int, ...], list[str]] = {}
    for f in conv.findings:
        if not f.address:
            continue
        address = f.address
        while address and not _exists(conv.stack, address):
            address = address[:-1]
        if address:
            comments.setdefault(address, []).append(f"{f.kind}: {f.source}: {f.reason}")
    return comments


def _exists(doc: Any, path: tuple[str | int, ...]) -> bool:
    for part in path:
        if isinstance(doc, dict):
            if part not in doc:
                return False
            doc = doc[part]
        elif isinstance(doc, list) and isinstance(part, int) and part < len(doc):
            doc = doc[part]
        else:
            return False
    return True


def _validate(text: str, out: Path | None) -> list[Diagnostic]:
    """Validate the text exactly as `deploy validate` would read the written file (templating
    included), from a scratch copy beside where it goes."""
    import tempfile

    from deployer.stack.validate import validate_file

    folder = out.parent if out else Path.cwd()
    display = str(out) if out else "<converted stack>"
    with tempfile.TemporaryDirectory(prefix=".deploy-convert-", dir=folder if folder.is_dir() else None) as tmp:
        scratch = Path(tmp) / (out.name if out is not None else "stack.yaml")
        scratch.write_text(text, encoding="utf-8")
        return validate_file(scratch, display).diagnostics
