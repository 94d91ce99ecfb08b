"""schemas/stack.schema.json: a valid 2020-12 schema, documented everywhere, that accepts the example
stacks and rejects each typical mistake at the right place.

The negative cases run the schema alone (no semantic checks), so each asserts where jsonschema
reports the error: `deploy validate` turns that path into the file position of the diagnostic.
"""

from __future__ import annotations

import copy
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from deployer.stack.loader import load_stack_file

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schemas" / "stack.schema.json"
STACKS = sorted([*(ROOT / "stacks").glob("*.yaml"), *(ROOT / "stacks").glob("*.yaml.j2")])
MODELINE = "# yaml-language-server: $schema=../schemas/stack.schema.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


# --- the schema itself -----------------------------------------------------------------------


def test_schema_is_valid_2020_12(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("$id") and schema.get("title") and schema.get("description")
    Draft202012Validator.check_schema(schema)


def _subschemas(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object, except conditions (`if`) and negations (`not`): those only test
    properties documented where they are defined."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            if key in ("if", "not"):
                continue
            if key in ("properties", "patternProperties", "$defs"):
                for name, sub in value.items():
                    yield from _subschemas(sub, f"{where}/{key}/{name}")
            elif isinstance(value, (dict, list)):
                yield from _subschemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _subschemas(item, f"{where}/{index}")


def test_every_property_and_definition_has_a_description(schema):
    missing = []
    for where, node in _subschemas(schema):
        named: dict[str, Any] = {}
        for key in ("properties", "patternProperties", "$defs"):
            named.update({f"{key}/{name}": sub for name, sub in node.get(key, {}).items()})
        if isinstance(node.get("additionalProperties"), dict):
            named["additionalProperties"] = node["additionalProperties"]
        for name, sub in named.items():
            text = sub.get("description") if isinstance(sub, dict) else None
            if not (isinstance(text, str) and text.strip()):
                missing.append(f"{where}/{name}")
    assert not missing, "no description: " + ", ".join(missing)


def test_fixed_key_objects_refuse_unknown_keys(schema):
    open_objects = [
        where for where, node in _subschemas(schema)
        if node.get("type") == "object" and "properties" in node
        and node.get("additionalProperties") is not False
    ]
    assert not open_objects, "fixed keys without additionalProperties: false: " + ", ".join(open_objects)


def test_every_pattern_compiles(schema):
    patterns = [node["pattern"] for _, node in _subschemas(schema) if isinstance(node.get("pattern"), str)]
    assert patterns
    for pattern in patterns:
        re.compile(pattern)


# --- the example stacks ----------------------------------------------------------------------


def test_the_three_example_stacks_exist():
    assert {p.name for p in STACKS} >= {"quickstart.yaml", "media-transcode.yaml.j2", "hpc.yaml"}


@pytest.mark.parametrize("path", STACKS, ids=[p.name for p in STACKS])
def test_example_stack_is_valid(path, validator):
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    document = load_stack_file(path).data  # rendered first: media-transcode is a template
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize("path", STACKS, ids=[p.name for p in STACKS])
def test_application_package_files_exist(path):
    data = load_stack_file(path).data
    for account in (data.get("batchAccounts") or {}).values():
        for app in (account.get("applications") or {}).values():
            for version in app["versions"].values():
                package = path.parent / version["file"]
                assert zipfile.is_zipfile(package), package


# --- accepted forms --------------------------------------------------------------------------

MINIMAL: dict[str, Any] = {
    "stack": "demo",
    "target": {"kind": "local", "resourceGroup": "rg-demo", "location": "westeurope"},
    "networks": {"hpc": {"name": "vnet-demo", "addressSpace": ["10.40.0.0/16"],
                         "subnets": {"nodes": {"addressPrefix": "10.40.0.0/20"}}}},
    "storageAccounts": {"data": {"name": "stdemo01", "containers": ["input"], "fileShares": {"scratch": {}}}},
    "batchAccounts": {
        "main": {
            "name": "bademo01",
            "autoStorage": "data",
            "pools": {
                "p1": {
                    "vmSize": "Standard_D2s_v3",
                    "deploymentConfiguration": {"virtualMachineConfiguration": {
                        "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy",
                                           "sku": "22_04-lts"},
                        "nodeAgentSkuId": "batch.node.ubuntu 22.04",
                    }},
                    "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 1}},
                },
            },
            "jobs": {"j1": {"pool": "p1", "tasks": [{"id": "t1", "commandLine": "echo one"}]}},
            "jobSchedules": {"nightly": {"schedule": {"recurrenceInterval": "P1D"},
                                         "jobSpecification": {"pool": "p1"}}},
        },
    },
}

POOL = ("batchAccounts", "main", "pools", "p1")
JOB = ("batchAccounts", "main", "jobs", "j1")
VM = (*POOL, "deploymentConfiguration", "virtualMachineConfiguration")
SCHEDULE = ("batchAccounts", "main", "jobSchedules", "nightly")
GALLERY_IMAGE = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i"
SUBNET_ID = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
IDENTITY = "/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"
FILES_RAW = {"accountName": "other01", "azureFileUrl": "https://other01.file.core.windows.net/share",
             "relativeMountPath": "other"}

Edit = Callable[[dict[str, Any]], None]


def _get(data: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def put(path: tuple[str | int, ...], value: Any) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        _get(data, path[:-1])[path[-1]] = copy.deepcopy(value)
    return edit


def drop(path: tuple[str | int, ...]) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        del _get(data, path[:-1])[path[-1]]
    return edit


def rename(path: tuple[str, ...], new: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        parent = _get(data, path[:-1])
        parent[new] = parent.pop(path[-1])
    return edit


def chain(*edits: Edit) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        for one in edits:
            one(data)
    return edit


def edited(*edits: Edit) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    for edit in edits:
        edit(data)
    return data


def test_minimal_stack_is_valid(validator):
    assert list(validator.iter_errors(MINIMAL)) == []


SECRET_HOLDER = {"cifsMountConfiguration": {
    "source": "//files/share", "userName": "batch", "password": {"secret": "env:SMB_PASSWORD"},
    "relativeMountPath": "smb"}}


def mounts(*entries: dict[str, Any]) -> Edit:
    return put((*POOL, "mountConfiguration"), list(entries))


def cifs_password(value: Any) -> Edit:
    return chain(mounts(SECRET_HOLDER),
                 put((*POOL, "mountConfiguration", 0, "cifsMountConfiguration", "password"), value))


ACCEPTED = [
    ("duration PT5M", put((*POOL, "scaleSettings", "fixedScale", "resizeTimeout"), "PT5M")),
    ("duration P1DT2H", put((*JOB, "constraints"), {"maxWallClockTime": "P1DT2H"})),
    ("duration fractional seconds", put((*JOB, "constraints"), {"maxWallClockTime": "PT0.5S"})),
    ("duration hh:mm:ss", put((*POOL, "scaleSettings", "fixedScale", "resizeTimeout"), "00:15:00")),
    ("duration d.hh:mm:ss", put((*JOB, "constraints"), {"maxWallClockTime": "1.02:00:00"})),
    ("autoscale", put((*POOL, "scaleSettings"), {"autoScale": {"formula": "$TargetDedicatedNodes = 1;",
                                                              "evaluationInterval": "PT5M"}})),
    ("secret from env", mounts(SECRET_HOLDER)),
    ("secret from file", cifs_password({"secret": "file:secrets/smb.txt"})),
    ("secret from key vault", cifs_password({"secret": "keyvault:kv-media/smb-password"})),
    ("secret from key vault, versioned",
     cifs_password({"secret": "keyvault:kv-media/smb-password/0123456789abcdef0123456789abcdef"})),
    ("auto-storage object", put(("batchAccounts", "main", "autoStorage"), {
        "storageAccount": "data", "authenticationMode": "BatchAccountManagedIdentity"})),
    ("container object", put(("storageAccounts", "data", "containers"),
                             ["input", {"name": "output", "publicAccess": "None", "metadata": {"a": "b"}}])),
    ("file share stack form", mounts({"azureFileShareConfiguration": {
        "storage": "data", "share": "scratch", "relativeMountPath": "scratch"}})),
    ("file share raw form",
     mounts({"azureFileShareConfiguration": {**FILES_RAW, "accountKey": {"secret": "env:KEY"}}})),
    ("blob mount by identity", mounts({"azureBlobFileSystemConfiguration": {
        "storage": "data", "containerName": "input", "relativeMountPath": "in",
        "identityReference": {"resourceId": IDENTITY}}})),
    ("blob mount by SAS", mounts({"azureBlobFileSystemConfiguration": {
        "accountName": "other01", "containerName": "input", "relativeMountPath": "in",
        "sasKey": {"secret": "keyvault:kv-media/input-sas"}}})),
    ("pool identity",
     put((*POOL, "identity"), {"type": "UserAssigned", "userAssignedIdentities": [IDENTITY]})),
    ("gallery image", put((*VM, "imageReference"), {"id": GALLERY_IMAGE})),
    ("subnet by logical name", put((*POOL, "networkConfiguration"), {"subnet": "hpc.nodes"})),
    ("Batch service API spellings", put((*JOB, "onAllTasksComplete"), "terminatejob")),
    ("camelCase spellings", put((*JOB, "onAllTasksComplete"), "terminateJob")),
    ("task auto user, data-plane case", put((*JOB, "tasks", 0, "userIdentity"),
                                            {"autoUser": {"scope": "task", "elevationLevel": "admin"}})),
    ("unlimited parallel tasks", put((*JOB, "maxParallelTasks"), -1)),
    ("emulator target", put(("target",), {"kind": "emulator", "endpoint": "https://localhost:8443"})),
]


@pytest.mark.parametrize("edit", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted(validator, edit):
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(edited(edit))]
    assert errors == []


# --- rejected mistakes -----------------------------------------------------------------------

# JSON paths of the usual places
P = "$.batchAccounts.main.pools.p1"
J = "$.batchAccounts.main.jobs.j1"
S = "$.batchAccounts.main.jobSchedules.nightly"
MOUNT = f"{P}.mountConfiguration[0]"

REJECTED = [
    # (id, edit of MINIMAL, JSON path of the error, failing keyword)
    ("unknown key in a pool", rename((*POOL, "vmSize"), "vmsize"), P, "additionalProperties"),
    ("unknown top-level key", rename(("networks",), "network"), "$", "additionalProperties"),
    ("certificates are retired", put((*POOL, "certificates"), []), P, "additionalProperties"),
    ("missing vmSize", drop((*POOL, "vmSize")), P, "required"),
    ("missing stack name", drop(("stack",)), "$", "required"),
    ("both fixedScale and autoScale",
     put((*POOL, "scaleSettings", "autoScale"), {"formula": "$TargetDedicatedNodes = 1;"}),
     f"{P}.scaleSettings", "oneOf"),
    ("plain-string accountKey",
     mounts({"azureFileShareConfiguration": {**FILES_RAW, "accountKey": "bXkta2V5"}}),
     f"{MOUNT}.azureFileShareConfiguration.accountKey", "type"),
    ("plain-string CIFS password", cifs_password("hunter2"),
     f"{MOUNT}.cifsMountConfiguration.password", "type"),
    ("plain-string user password", put((*POOL, "userAccounts"), [{"name": "ops", "password": "hunter2"}]),
     f"{P}.userAccounts[0].password", "type"),
    ("unknown secret scheme", cifs_password({"secret": "vault:x"}),
     f"{MOUNT}.cifsMountConfiguration.password.secret", "pattern"),
    ("absolute secret file", cifs_password({"secret": "file:/etc/shadow"}),
     f"{MOUNT}.cifsMountConfiguration.password.secret", "pattern"),
    ("bad enum value", put((*POOL, "taskSchedulingPolicy"), {"nodeFillType": "Fill"}),
     f"{P}.taskSchedulingPolicy.nodeFillType", "enum"),
    ("bad target kind", put(("target", "kind"), "lokal"), "$.target.kind", "enum"),
    ("bad duration", put((*POOL, "scaleSettings", "fixedScale", "resizeTimeout"), "15min"),
     f"{P}.scaleSettings.fixedScale.resizeTimeout", "pattern"),
    ("duration in months", put((*JOB, "constraints"), {"maxWallClockTime": "P1M"}),
     f"{J}.constraints.maxWallClockTime", "pattern"),
    ("hours out of range", put((*JOB, "constraints"), {"maxWallClockTime": "24:00:00"}),
     f"{J}.constraints.maxWallClockTime", "pattern"),
    ("bad pool id key", rename(POOL, "p 1"), "$.batchAccounts.main.pools", "pattern"),
    ("bad job id key", rename(JOB, "j/1"), "$.batchAccounts.main.jobs", "pattern"),
    ("tasks in a jobSpecification",
     put((*SCHEDULE, "jobSpecification", "tasks"), [{"id": "a", "commandLine": "b"}]),
     f"{S}.jobSpecification.tasks", "not"),
    ("jobSpecification without pool", drop((*SCHEDULE, "jobSpecification", "pool")), f"{S}.jobSpecification",
     "required"),
    ("storage account name with capitals", put(("storageAccounts", "data", "name"), "StDemo01"),
     "$.storageAccounts.data.name", "pattern"),
    ("stack name with capitals", put(("stack",), "Demo"), "$.stack", "pattern"),
    ("azure target without subscription", put(("target", "kind"), "azure"), "$.target", "required"),
    ("emulator target without endpoint", put(("target",), {"kind": "emulator"}), "$.target", "required"),
    ("subnet and subnetId together",
     put((*POOL, "networkConfiguration"), {"subnet": "hpc.nodes", "subnetId": SUBNET_ID}),
     f"{P}.networkConfiguration", "not"),
    ("marketplace image and gallery id", put((*VM, "imageReference", "id"), GALLERY_IMAGE),
     f"{P}.deploymentConfiguration.virtualMachineConfiguration.imageReference", "oneOf"),
    ("two kinds in one mount entry",
     mounts({"nfsMountConfiguration": {"source": "10.0.0.4:/export", "relativeMountPath": "nfs"},
             **SECRET_HOLDER}),
     MOUNT, "oneOf"),
    ("file share stack form with a key", mounts({"azureFileShareConfiguration": {
        "storage": "data", "share": "scratch", "accountKey": {"secret": "env:KEY"},
        "relativeMountPath": "s"}}),
     f"{MOUNT}.azureFileShareConfiguration.accountKey", "not"),
    ("resource file with two sources", put((*JOB, "tasks", 0, "resourceFiles"), [{
        "httpUrl": "https://example.org/a", "storageContainerUrl": "https://example.org/c",
        "filePath": "a"}]),
     f"{J}.tasks[0].resourceFiles[0]", "oneOf"),
    ("userName and autoUser together",
     put((*JOB, "tasks", 0, "userIdentity"), {"userName": "ops", "autoUser": {"scope": "Pool"}}),
     f"{J}.tasks[0].userIdentity", "oneOf"),
    ("taskSlotsPerNode 0", put((*POOL, "taskSlotsPerNode"), 0), f"{P}.taskSlotsPerNode", "minimum"),
    ("priority out of range", put((*JOB, "priority"), 2000), f"{J}.priority", "maximum"),
    ("maxParallelTasks 0", put((*JOB, "maxParallelTasks"), 0), f"{J}.maxParallelTasks", "not"),
    ("task without commandLine", drop((*JOB, "tasks", 0, "commandLine")), f"{J}.tasks[0]", "required"),
    ("bad CIDR", put(("networks", "hpc", "addressSpace"), ["10.40.0.0/33"]), "$.networks.hpc.addressSpace[0]",
     "pattern"),
    ("application package not a zip",
     put(("batchAccounts", "main", "applications"), {"tool": {"versions": {"1.0": {"file": "tool.tar.gz"}}}}),
     "$.batchAccounts.main.applications.tool.versions['1.0'].file", "pattern"),
    ("metadata value not a string", put((*JOB, "metadata"), {"retries": 3}), f"{J}.metadata.retries", "type"),
    ("absolute mount path",
     mounts({"nfsMountConfiguration": {"source": "10.0.0.4:/export", "relativeMountPath": "/mnt/nfs"}}),
     f"{MOUNT}.nfsMountConfiguration.relativeMountPath", "pattern"),
]


@pytest.mark.parametrize(("edit", "json_path", "keyword"), [c[1:] for c in REJECTED],
                         ids=[c[0] for c in REJECTED])
def test_rejected(validator, edit, json_path, keyword):
    errors = list(validator.iter_errors(edited(edit)))
    assert errors, "the schema accepted it"
    found = [(e.json_path, e.validator) for e in errors]
    assert (json_path, keyword) in found, found


def test_bad_map_keys_are_reported_through_property_names(validator):
    """A bad pool id fails `propertyNames`; jsonschema reports it at the map with the key as the
    instance, which is how deploy validate finds the key's position."""
    (error,) = validator.iter_errors(edited(rename(POOL, "p 1")))
    assert "propertyNames" in error.relative_schema_path
    assert error.instance == "p 1"


def test_a_plain_string_secret_is_not_echoed_in_the_message(schema, validator):
    """The schema's own message for a secret written in clear must not repeat the secret."""
    data = edited(put((*POOL, "userAccounts"), [{"name": "ops", "password": "hunter2"}]))
    (error,) = validator.iter_errors(data)
    assert "hunter2" not in schema["$defs"]["secretRef"]["x-error-message"]
    assert error.schema is schema["$defs"]["secretRef"]
