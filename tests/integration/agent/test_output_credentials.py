"""Output files need a credential on the local target, as on Azure: the pool's managed identity
(`identityReference`) or a SAS in the container URL that allows writing now. Without one the task
fails with FileUploadMiscError and nothing is written."""

from __future__ import annotations

from .conftest import AgentBatch

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
            assert info.failure_info.code == "FileUploadMiscError", task_id
            assert "identityReference" in info.failure_info.message, task_id
        names |= {blob.name for blob in out.list_blobs()}
    assert names == {"sas/result.txt", "identity/result.txt"}
    assert out.download_blob("identity/result.txt").readall() == b"done\n"
