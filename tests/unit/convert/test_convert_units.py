"""Unit tests for deploy convert's pieces: expressions, the YAML writer, fit, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.cli import main
from deployer.convert import convert_files
from deployer.convert.emit import to_yaml
from deployer.convert.expressions import Unresolved, scope_for
from deployer.stack.validate import validate_file


@pytest.mark.parametrize(("expression", "expected"), [
    ("[parameters('a')]", 3),
    ("[variables('os').publisher]", "Canonical"),
    ("x[parameters('ext')]", "xwav"),
    ("[concat('a', parameters('ext'))]", "awav"),
    ("[format('{0}/{1}', parameters('ext'), 'b')]", "wav/b"),
    ("[resourceId('Microsoft.Storage/storageAccounts', 'st1')]", "st1"),
    ("[[literal]", "[[literal]"),
])
def test_expressions(expression: str, expected: object) -> None:
    scope = scope_for({"parameters": {"a": {"defaultValue": 1}}, "variables": {"os": {"publisher": "Canonical"}}},
                      {"a": {"value": 3}, "ext": "wav"})
    assert scope.resolve(expression) == expected


@pytest.mark.parametrize("expression", ["[parameters('missing')]", "[uniqueString('x')]", "a[parameters('nope')]"])
def test_unresolvable_expressions(expression: str) -> None:
    assert isinstance(scope_for({}, {}).resolve(expression), Unresolved)


@pytest.mark.parametrize(("name", "template"), [("s.yaml", False), ("s.yaml.j2", True)])
def test_yaml_round_trips_through_the_stack_loader(tmp_path: Path, name: str, template: bool) -> None:
    """Quoting (YAML 1.2 core), literal blocks, Jinja2-looking text and comments survive, in a plain
    stack (kept as written) and in a template (escaped, rendered back)."""
    task = {"id": "0", "commandLine": '/bin/bash -c "n=${#arr[@]}; echo {{x}} {%y%} {#z#}"'}
    doc = {"stack": "rt", "target": {"kind": "local", "resourceGroup": "rg-rt", "location": "westeurope"},
           "batchAccounts": {"main": {"name": "bart01", "pools": {"p": {
               "vmSize": "Standard_D2s_v3",
               "deploymentConfiguration": {"virtualMachineConfiguration": {
                   "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy",
                                      "sku": "22_04-lts", "version": "latest"},
                   "nodeAgentSkuId": "batch.node.ubuntu 22.04"}},
               "scaleSettings": {"autoScale": {"formula": "$TargetDedicatedNodes = 1;\n$x = 2;\n"}},
               "metadata": {"a": "yes", "b": "1.0", "c": "null", "d": "0x1F"}}},
               "jobs": {"j": {"pool": "p", "tasks": [task]}}}}}
    path = tmp_path / name
    text = to_yaml(doc, {("batchAccounts", "main", "jobs", "j"): ["dropped: a {% for %} loop"]},
                   ["header {{ x }}"], template=template)
    assert ("{{x}}" in text) is not template
    path.write_text(text)
    result = validate_file(path)
    assert result.ok, result.diagnostics
    assert result.document is not None
    data = result.document.data
    assert data["batchAccounts"]["main"]["jobs"]["j"]["tasks"][0]["commandLine"] == task["commandLine"]
    pool = data["batchAccounts"]["main"]["pools"]["p"]
    assert pool["metadata"] == {"a": "yes", "b": "1.0", "c": "null", "d": "0x1F"}
    assert pool["scaleSettings"]["autoScale"]["formula"] == "$TargetDedicatedNodes = 1;\n$x = 2;\n"


def test_bad_json_is_a_positioned_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "pool.json"
    bad.write_text('{\n  "id": "p",\n  "vmSize": \n}\n')
    assert main(["convert", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:4:1: error: not valid JSON" in err and "Traceback" not in err


def test_unknown_format_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("hello: world\n")
    assert main(["convert", str(other)]) == 1
    assert "not a format deploy convert reads" in capsys.readouterr().err


def test_job_without_its_pool_is_dropped_with_the_reason(tmp_path: Path) -> None:
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"id": "j", "poolInfo": {"poolId": "elsewhere"}, "priority": 5}))
    result = convert_files([job])
    assert result.ok
    assert [(f.source, "elsewhere" in f.reason) for f in result.conversion.dropped] == [("job.json: $", True)]
    assert "jobs" not in result.conversion.stack["batchAccounts"]["main"]


def test_unknown_and_mistyped_properties_are_dropped_by_fit(tmp_path: Path) -> None:
    pool = tmp_path / "pool.json"
    pool.write_text(json.dumps({
        "id": "p", "vmSize": "Standard_D2s_v3",
        "virtualMachineConfiguration": {"imageReference": {"publisher": "canonical",
                                                           "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
                                        "nodeAgentSKUId": "batch.node.ubuntu 22.04", "futureSetting": 1},
        "taskSlotsPerNode": "four", "enableAutoScale": True, "autoScaleFormula": "$TargetDedicatedNodes=1;",
        "targetDedicatedNodes": 3}))
    result = convert_files([pool])
    assert result.ok, result.diagnostics
    assert sorted(f.source for f in result.conversion.dropped) == [
        "pool.json: $.targetDedicatedNodes", "pool.json: $.taskSlotsPerNode",
        "pool.json: $.virtualMachineConfiguration.futureSetting"]


def test_shipyard_data_ingress_becomes_an_upload(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("""\
batch_shipyard: {storage_account_settings: mystorage}
global_resources:
  files:
    - source: {path: data/reads, include: ['*.fq.gz']}
      destination:
        storage_account_settings: mystorage
        data_transfer: {remote_path: input/reads, blobxfer_extra_options: '--no-overwrite'}
    - source: {path: /home/me/elsewhere}
      destination: {storage_account_settings: mystorage, data_transfer: {remote_path: other}}
""")
    (tmp_path / "data" / "reads").mkdir(parents=True)
    result = convert_files([config], out=tmp_path / "stack.yaml")
    assert result.ok, result.diagnostics
    storage = result.conversion.stack["storageAccounts"]["mystorage"]
    assert storage["containers"] == [{"name": "input", "upload": {
        "from": "data/reads", "pattern": "**/*.fq.gz", "prefix": "reads/"}}]
    assert [f.source for f in result.conversion.dropped] == [
        "config.yaml: global_resources.files.0.destination.data_transfer.blobxfer_extra_options",
        "config.yaml: global_resources.files.1"]


def test_a_job_with_an_auto_pool_converts_to_auto_pool(tmp_path: Path) -> None:
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"id": "nightly", "priority": 10, "poolInfo": {"autoPoolSpecification": {
        "autoPoolIdPrefix": "n", "poolLifetimeOption": "job", "keepAlive": False, "pool": {
            "vmSize": "Standard_D2s_v3", "targetDedicatedNodes": 1,
            "virtualMachineConfiguration": {
                "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy",
                                   "sku": "22_04-lts"},
                "nodeAgentSKUId": "batch.node.ubuntu 22.04"}}}}}))
    result = convert_files([job], out=tmp_path / "stack.yaml")
    assert result.ok, result.diagnostics
    assert result.conversion.dropped == []
    converted = result.conversion.stack["batchAccounts"]["main"]["jobs"]["nightly"]
    assert converted["priority"] == 10
    assert converted["autoPool"]["pool"]["scaleSettings"] == {"fixedScale": {"targetDedicatedNodes": 1}}
    assert converted["autoPool"]["pool"]["deploymentConfiguration"]["virtualMachineConfiguration"][
        "nodeAgentSkuId"] == "batch.node.ubuntu 22.04"
