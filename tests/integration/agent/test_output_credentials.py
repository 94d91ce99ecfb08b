"""Storage named by URL needs a credential on the local target, as on Azure. Output files: the
pool's managed identity (`identityReference`) or a SAS in the container URL that allows writing
now; without one the task fails with FileUploadAccessDenied and nothing is written. Resource
files: the identity, a SAS allowing read (and list, for a container) or a container open to the
public; without one the task fails before it runs (ResourceContainerAccessDenied, BlobAccessDenied)."""

from __future__ import annotations

from .conftest import RG, STORAGE, AgentBatch

IDENTITY = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-agent/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-writer")


def output(container: dict[str, object], path: str) -> list[dict[str, object]]:
    return [{"filePattern": "result.txt", "destination": {"container": {**container, "path": path}},
             "uploadOptions": {"uploadCondition": "taskcompletion"}}]


def test_output_files_upload_only_with_a_credential(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=4, identity={"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}})
    out = b.container("output")
    bare = b.blob_url("output")
    cases = {  # task id -> (destination, lands?)
        "sas": ({"containerUrl": b.sas_url("output")}, True),
        "identity": ({"containerUrl": bare, "identityReference": {"resourceId": IDENTITY.upper()}}, True),
        "bare": ({"containerUrl": bare}, False),
        "read-only-sas": ({"containerUrl": b.sas_url("output", permission="r")}, False),
        "expired-sas": ({"containerUrl": b.sas_url("output", hours=-1)}, False),
        "forged-sas": ({"containerUrl": b.sas_url("output").replace("sig=", "sig=AAAA")}, False),
        "other-identity": ({"containerUrl": bare,
                            "identityReference": {"resourceId": IDENTITY.replace("id-writer", "id-other")}}, False),
    }
    b.data.create_job({"id": "j", "poolInfo": {"poolId": "workers"}})
    for task_id, (dest, _) in cases.items():
        b.data.create_task("j", {"id": task_id, "commandLine": "/bin/bash -c 'echo done > result.txt'",
                                 "outputFiles": output(dest, f"{task_id}/result.txt")})
    names = set()
    for task_id, (_, lands) in cases.items():
        info = b.wait_task("j", task_id).execution_info
        assert info.exit_code == 0, task_id
        if lands:
            assert info.result == "success" and info.failure_info is None, task_id
        else:
            assert info.result == "failure", task_id
            assert info.failure_info.code == "FileUploadAccessDenied", task_id
            assert "identityReference" in info.failure_info.message, task_id
        names |= {blob.name for blob in out.list_blobs()}
    assert names == {"sas/result.txt", "identity/result.txt"}
    assert out.download_blob("identity/result.txt").readall() == b"done\n"


def test_resource_files_by_url_are_read_only_with_a_credential(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=4, identity={"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}})
    b.container("input").upload_blob("a.txt", b"alpha\n")
    b.emulator.clients.storage.storage_accounts.update(RG, STORAGE, {"properties": {"allowBlobPublicAccess": True}})
    public = b.emulator.clients.blob(f"{b.emulator.endpoint}/blob/{STORAGE}").create_container(
        "open", public_access="blob")
    public.upload_blob("a.txt", b"open\n")
    container, blob = b.blob_url("input"), b.blob_url("input", "a.txt")

    def query(permission: str, hours: float = 1.0) -> str:
        return b.sas_url("input", permission=permission, hours=hours).split("?", 1)[1]

    def by_url(key: str, url: str, **extra: object) -> dict[str, object]:
        return {key: url, "filePath": "in" if key == "storageContainerUrl" else "a.txt", **extra}

    identity = {"identityReference": {"resourceId": IDENTITY}}
    other = {"identityReference": {"resourceId": IDENTITY.replace("id-writer", "id-other")}}
    cases = {  # task id -> (resource file, failure code or None)
        "container-sas": (by_url("storageContainerUrl", f"{container}?{query('rl')}"), None),
        "container-identity": (by_url("storageContainerUrl", container, **identity), None),
        "container-bare": (by_url("storageContainerUrl", container), "ResourceContainerAccessDenied"),
        "container-read-only": (by_url("storageContainerUrl", f"{container}?{query('r')}"),
                                "ResourceContainerAccessDenied"),  # listing needs l too
        "blob-sas": (by_url("httpUrl", f"{blob}?{query('r')}"), None),
        "blob-identity": (by_url("httpUrl", blob, **identity), None),
        "blob-public": (by_url("httpUrl", b.blob_url("open", "a.txt")), None),
        "blob-bare": (by_url("httpUrl", blob), "BlobAccessDenied"),
        "blob-expired": (by_url("httpUrl", f"{blob}?{query('r', hours=-1)}"), "BlobAccessDenied"),
        "blob-write-only": (by_url("httpUrl", f"{blob}?{query('w')}"), "BlobAccessDenied"),
        "blob-other-identity": (by_url("httpUrl", blob, **other), "BlobAccessDenied"),
        "public-container-unlisted": (by_url("storageContainerUrl", b.blob_url("open")),
                                      "ResourceContainerAccessDenied"),  # "blob" access: no listing
    }
    b.data.create_job({"id": "r", "poolInfo": {"poolId": "workers"}})
    for task_id, (resource, _) in cases.items():
        b.data.create_task("r", {"id": task_id, "commandLine": "/bin/bash -c 'cat a.txt in/a.txt 2>/dev/null; true'",
                                 "resourceFiles": [resource]})
    for task_id, (_, code) in cases.items():
        info = b.wait_task("r", task_id).execution_info
        if code is None:
            assert info.result == "success" and info.exit_code == 0, (task_id, info.failure_info)
        else:
            assert info.result == "failure" and info.exit_code is None, task_id  # it never ran
            assert info.failure_info.code == code, (task_id, info.failure_info.code)
            said = "identityReference" if "identity" in task_id else "credential"
            assert said in info.failure_info.message, task_id
