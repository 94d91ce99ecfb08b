"""`deploy check`: the rules find what they should where they should (FILE:LINE), suppressions
need a reason, and the SARIF output is valid SARIF 2.1.0."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from deployer.cli import main
from deployer.policy.check import check_file
from deployer.policy.rules import RULES
from tests.unit.stacks import UBUNTU_VM

ROOT = Path(__file__).resolve().parents[3]
SARIF_SCHEMA = json.loads((ROOT / "tests/fixtures/sarif/sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

CARELESS = """\
stack: careless
target: {kind: local, resourceGroup: rg-careless, location: westeurope}
storageAccounts:
  data:
    name: stcareless01
    minimumTlsVersion: TLS1_0
    allowBlobPublicAccess: true
    allowSharedKeyAccess: true
    publicNetworkAccess: Enabled
    containers:
      - name: drop
        publicAccess: Container
batchAccounts:
  main:
    name: bacareless01
    autoStorage: data
    allowedAuthenticationModes: [SharedKey, AAD]
    publicNetworkAccess: Disabled
    pools:
      spot:
""" + UBUNTU_VM + """\
        scaleSettings:
          fixedScale: {targetLowPriorityNodes: 4}
        networkConfiguration:
          publicIPAddressConfiguration: {provision: BatchManaged}
        startTask:
          commandLine: /bin/bash -c "curl -u admin:hunter2secret https://example.com/x"
          environmentSettings:
            - {name: DB_PASSWORD, value: correct-horse-battery}
            - {name: MODE, value: fast}
      # deploy:ignore BDP004,BDP007 a lab pool that needs public IPs for licence checkout
      lab:
""" + UBUNTU_VM + """\
        scaleSettings:
          autoScale:
            evaluationInterval: PT5M
            formula: $TargetLowPriorityNodes = 2;  # deploy:ignore BDP010
    jobs:
      j:
        pool: spot
        tasks:
          - id: t
            commandLine: /bin/bash -c "azcopy copy x 'https://st.blob.core.windows.net/c?sv=1&sig=AbCdEfGhIjKlMnOp'"
"""

# (rule, line) in CARELESS, and whether it is suppressed
EXPECTED = [
    ("BDP006", 7, False), ("BDP002", 8, False), ("BDP003", 9, False), ("BDP006", 12, False),
    ("BDP005", 6, False), ("BDP001", 17, False), ("BDP008", 16, False),
    ("BDP009", 31, False), ("BDP009", 33, False), ("BDP010", 27, False), ("BDP004", 29, False),
    ("BDP007", 20, False), ("BDP004", 36, True), ("BDP007", 36, True), ("BDP010", 45, False),
    ("BDP000", 45, False), ("BDP009", 51, False),
]


def findings(path: Path) -> list[tuple[str, int, bool]]:
    return sorted((r.rule.id, r.line, r.suppressed) for r in check_file(path))


def test_the_careless_stack(tmp_path: Path) -> None:
    path = tmp_path / "careless.yaml"
    path.write_text(CARELESS, encoding="utf-8")
    assert findings(path) == sorted(EXPECTED)
    by_line = {(r.rule.id, r.line): r for r in check_file(path)}
    assert by_line[("BDP004", 36)].justification == "a lab pool that needs public IPs for licence checkout"
    assert "gives no reason" in by_line[("BDP000", 45)].message
    # the report never repeats a secret it found
    text = json.dumps([r.as_dict() for r in check_file(path)])
    for secret in ("hunter2secret", "correct-horse-battery", "AbCdEfGhIjKlMnOp"):
        assert secret not in text


def key_line(text: str, path: tuple[str | int, ...]) -> int:
    """The line of the key at `path`, found by reading the text (independently of the loader)."""
    lines = text.splitlines()
    at, indent, start = 0, -1, 0
    for part in path:
        if isinstance(part, int):
            seen = -1
            for i in range(at + 1, len(lines)):
                if lines[i].lstrip().startswith("- "):
                    seen += 1
                    if seen == part:
                        at, indent, start = i, len(lines[i]) - len(lines[i].lstrip()) - 1, i
                        break
            continue
        for i in range(start, len(lines)):
            found = re.match(rf"^(\s*)(- )?{re.escape(part)}:", lines[i])
            if found and len(found.group(1)) + len(found.group(2) or "") > indent:
                at, indent, start = i, len(found.group(1)) + len(found.group(2) or ""), i + 1
                break
        else:
            raise AssertionError(f"{part} not found")
    return at + 1


# The example stacks: which rules fire where (paths, their lines read from the files themselves).
EXAMPLES = {
    "quickstart.yaml": [
        ("BDP003", ("storageAccounts", "data")), ("BDP001", ("batchAccounts", "main")),
        ("BDP003", ("batchAccounts", "main")), ("BDP008", ("batchAccounts", "main", "autoStorage")),
        ("BDP004", ("batchAccounts", "main", "pools", "small")),
        ("BDP007", ("batchAccounts", "main", "pools", "small")),
    ],
    "hpc.yaml": [
        ("BDP003", ("storageAccounts", "results")), ("BDP003", ("batchAccounts", "hpc")),
        ("BDP008", ("batchAccounts", "hpc", "autoStorage")),
    ],
    "media-transcode.yaml.j2": [
        ("BDP003", ("storageAccounts", "media")), ("BDP003", ("batchAccounts", "media")),
        ("BDP008", ("batchAccounts", "media", "autoStorage")),
        ("BDP004", ("batchAccounts", "media", "pools", "transcode")),
        ("BDP007", ("batchAccounts", "media", "pools", "transcode")),
        ("BDP008", ("batchAccounts", "media", "pools", "transcode", "mountConfiguration", 0,
                    "azureFileShareConfiguration")),
    ],
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_example_stacks(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    path = Path("stacks") / name
    text = path.read_text(encoding="utf-8")
    expected = sorted((rule, key_line(text, where), False) for rule, where in EXAMPLES[name])
    assert findings(path) == expected


def test_sarif_is_valid_sarif_2_1_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    (tmp_path / "careless.yaml").write_text(CARELESS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "careless.yaml", "--format", "sarif"]) == 1
    document = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    (run,) = document["runs"]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {rule.id for rule in RULES}
    located = sorted((r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
                      "suppressions" in r) for r in run["results"])
    assert located == sorted(EXPECTED)
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {
        "careless.yaml"}
    # an invalid document is refused by the same validator (the check can fail)
    broken = json.loads(json.dumps(document))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(broken)


def test_exit_codes_and_formats(tmp_path: Path, capsys) -> None:
    clean = tmp_path / "clean.yaml"
    clean.write_text("""\
stack: clean
target: {kind: local, resourceGroup: rg, location: westeurope}
storageAccounts:
  data: {name: stclean01, minimumTlsVersion: TLS1_2, allowSharedKeyAccess: false, publicNetworkAccess: Disabled}
""", encoding="utf-8")
    assert main(["check", str(clean)]) == 0
    assert "0 findings to fix, 0 notes, 0 suppressed." in capsys.readouterr().out
    assert main(["check", str(clean), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["formatVersion"] == 1 and report["ok"] is True and report["findings"] == []
    assert {r["id"] for r in report["rules"]} >= {"BDP001", "BDP010"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("stack: bad\ntarget: {kind: nowhere}\n", encoding="utf-8")
    assert main(["check", str(bad)]) == 1
    assert "bad.yaml:2:" in capsys.readouterr().err


def test_every_rule_documents_itself() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert re.fullmatch(r"BDP\d{3}", rule.id) and rule.severity in ("error", "warning", "note")
        assert rule.rationale.endswith(".") and rule.fix and rule.title
