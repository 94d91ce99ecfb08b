"""Batch's task lifecycle on the local agent, through azure-batch (REST property names as dicts)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .conftest import POOL, STORAGE, AgentBatch

BASH = "/bin/bash -c"


def job(job_id: str, pool_id: str = POOL, **extra: Any) -> dict[str, Any]:
    return {"id": job_id, "poolInfo": {"poolId": pool_id}, **extra}


def sh(script: str) -> str:
    return f"{BASH} '{script}'"


def node_file(b: AgentBatch, node_id: str, path: str, pool_id: str = POOL) -> str:
    return b"".join(b.data.download_node_file(pool_id, node_id, path)).decode()


def test_start_task_success_gates_tasks(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=1, startTask={
        "commandLine": sh("echo started > $AZ_BATCH_NODE_SHARED_DIR/started; pwd"),
        "waitForSuccess": True,
    })
    b.data.create_job(job("j"))
    b.data.create_task("j", {"id": "t", "commandLine": f"/bin/cat {'$AZ_BATCH_NODE_SHARED_DIR'}/started"})
    b.data.create_task("j", {"id": "t2", "commandLine": sh("cat $AZ_BATCH_NODE_SHARED_DIR/started")})
    done = b.wait_task("j", "t2")
    assert done.execution_info.exit_code == 0
    assert b.file("j", "t2", "stdout.txt") == "started\n"
    # without a shell the variable is not expanded: cat fails on the literal path
    assert b.wait_task("j", "t").execution_info.exit_code == 1
    node = b.data.get_node(POOL, done.node_info.node_id)
    assert node.start_task_info.result == "success" and node.start_task_info.exit_code == 0
    assert node_file(b, node.id, "startup/stdout.txt").strip().endswith("/startup/wd")


def test_start_task_failure_leaves_node_starttaskfailed(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool("broken", nodes=1, slots=1, startTask={"commandLine": sh("echo no >&2; exit 7"), "waitForSuccess": True,
                                                  "maxTaskRetryCount": 1})
    b.data.create_job(job("j", "broken"))
    b.data.create_task("j", {"id": "t", "commandLine": "/bin/true"})

    def failed() -> Any:
        nodes = list(b.data.list_nodes("broken"))
        return nodes if nodes and nodes[0].state == "starttaskfailed" else None

    node = b.wait(failed, "node starttaskfailed")[0]
    info = node.start_task_info
    assert (info.state, info.result, info.exit_code, info.retry_count) == ("completed", "failure", 7, 1)
    assert info.failure_info.code == "FailureExitCode"
    assert node_file(b, node.id, "startup/stderr.txt", "broken") == "no\n"
    assert b.data.get_task("j", "t").state == "active"  # never scheduled on a failed node


def test_job_preparation_before_and_release_after(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=1)
    b.data.create_job(job(
        "j",
        jobPreparationTask={"commandLine": sh("echo prep; touch $AZ_BATCH_NODE_SHARED_DIR/prepared")},
        jobReleaseTask={"commandLine": sh("echo release")},
    ))
    b.data.create_task("j", {"id": "t", "commandLine": sh("ls $AZ_BATCH_NODE_SHARED_DIR; echo $AZ_BATCH_JOB_PREP_DIR")})
    b.data.update_job("j", {"onAllTasksComplete": "terminatejob"})  # (a job without tasks would end at once)
    t = b.wait_task("j", "t")
    assert t.execution_info.exit_code == 0
    out = b.file("j", "t", "stdout.txt").splitlines()
    assert out[0] == "prepared" and out[1].endswith("/workitems/j/job-1/jobpreparation")
    b.wait_job("j")

    def released() -> Any:
        items = list(b.data.list_job_preparation_and_release_task_status("j"))
        rel = items[0].job_release_task_execution_info if items else None
        return items[0] if rel is not None and rel.state == "completed" else None

    status = b.wait(released, "release task completed")
    prep, rel = status.job_preparation_task_execution_info, status.job_release_task_execution_info
    assert prep.result == "success" and rel.result == "success"
    assert prep.end_time <= t.execution_info.start_time
    assert rel.start_time >= t.execution_info.end_time
    assert node_file(b, status.node_id, "workitems/j/job-1/jobpreparation/stdout.txt") == "prep\n"
    assert node_file(b, status.node_id, "workitems/j/job-1/jobrelease/stdout.txt") == "release\n"


def test_resource_files_in_output_files_out(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=2)
    b.container("input").upload_blob("in/a.txt", b"alpha\n")
    b.container("input").upload_blob("b.txt", b"beta\n")
    out = b.container("output")
    url = b.sas_url("output")  # a node writes with a credential (see test_output_credentials)
    outputs = [
        {"filePattern": "*.txt", "destination": {"container": {"containerUrl": url,
                                                               "path": "ok"}},
         "uploadOptions": {"uploadCondition": "tasksuccess"}},
        {"filePattern": "*.txt", "destination": {"container": {"containerUrl": url,
                                                               "path": "failed"}},
         "uploadOptions": {"uploadCondition": "taskfailure"}},
        {"filePattern": "../stdout.txt", "destination": {"container": {"containerUrl": url,
                                                                       "path": "logs/stdout.txt"}},
         "uploadOptions": {"uploadCondition": "taskcompletion"}},
    ]
    b.data.create_job(job("j"))
    read = b.sas_url("input", permission="r").split("?", 1)[1]  # a URL is read with a credential
    files = [{"autoStorageContainerName": "input", "blobPrefix": "in/", "filePath": "data"},
             {"httpUrl": f"{b.blob_url('input', 'b.txt')}?{read}", "filePath": "b.txt", "fileMode": "0600"}]
    b.data.create_task("j", {"id": "good", "commandLine": sh("cat data/in/a.txt b.txt | tee result.txt"),
                             "resourceFiles": files, "outputFiles": outputs})
    b.data.create_task("j", {"id": "bad", "commandLine": sh("echo partial > result.txt; exit 1"),
                             "outputFiles": outputs})
    assert b.wait_task("j", "good").execution_info.exit_code == 0
    assert b.wait_task("j", "bad").execution_info.exit_code == 1
    names = {blob.name for blob in out.list_blobs()}
    assert {"ok/result.txt", "ok/b.txt", "failed/result.txt", "logs/stdout.txt"} <= names
    assert "failed/b.txt" not in names  # the bad task had no resource files
    assert out.download_blob("ok/result.txt").readall() == b"alpha\nbeta\n"
    assert out.download_blob("failed/result.txt").readall() == b"partial\n"
    # a resource file that does not exist fails the task before it runs
    b.data.create_task("j", {"id": "missing", "commandLine": "/bin/true",
                             "resourceFiles": [{"httpUrl": f"{b.blob_url('input', 'nope')}?{read}", "filePath": "x"}]})
    missing = b.wait_task("j", "missing")
    assert missing.execution_info.result == "failure" and missing.execution_info.exit_code is None
    assert missing.execution_info.failure_info.code == "BlobNotFound"


def test_mount_is_shared_by_nodes(agent_batch: AgentBatch, tmp_path: Path) -> None:
    b = agent_batch
    go = tmp_path / "go"
    b.pool(nodes=2, slots=1, mountConfiguration=[{"azureFileShareConfiguration": {
        "accountName": STORAGE, "azureFileUrl": f"https://{STORAGE}.file.core.windows.net/scratch",
        "accountKey": "a2V5", "relativeMountPath": "scratch"}}])
    b.data.create_job(job("j"))
    b.data.create_task("j", {"id": "writer", "commandLine": sh(
        f"echo shared > $AZ_BATCH_NODE_MOUNTS_DIR/scratch/note; while [ ! -f {go} ]; do sleep 0.05; done")})
    b.wait_task("j", "writer", "running")
    b.data.create_task("j", {"id": "reader", "commandLine": sh("cat $AZ_BATCH_NODE_MOUNTS_DIR/scratch/note")})
    reader = b.wait_task("j", "reader")
    go.write_text("")
    writer = b.wait_task("j", "writer")
    assert reader.node_info.node_id != writer.node_info.node_id  # the writer held the other node's one slot
    assert b.file("j", "reader", "stdout.txt") == "shared\n"


def test_blob_mount_writes_reach_the_container(agent_batch: AgentBatch, tmp_path: Path) -> None:
    """blobfuse uploads a file when it is closed: what a task writes under a blob mount is a blob of
    the container once the task has ended; what came from the container is not uploaded again, and
    a symbolic link is never followed out of the mount."""
    b = agent_batch
    data = b.container("data")
    data.upload_blob("seed.txt", b"seed\n")
    seeded = data.get_blob_client("seed.txt").get_blob_properties().etag
    secret = tmp_path / "outside.txt"
    secret.write_text("not for the container\n")
    b.pool(nodes=1, slots=1, mountConfiguration=[{"azureBlobFileSystemConfiguration": {
        "accountName": STORAGE, "containerName": "data", "accountKey": "a2V5", "relativeMountPath": "data"}}])
    b.data.create_job(job("j"))
    mount = "$AZ_BATCH_NODE_MOUNTS_DIR/data"
    b.data.create_task("j", {"id": "write", "commandLine": sh(
        f"cat {mount}/seed.txt; mkdir -p {mount}/out && echo one > {mount}/out/result.txt; "
        f"ln -s {secret} {mount}/link.txt")})
    assert b.wait_task("j", "write").execution_info.exit_code == 0
    assert b.file("j", "write", "stdout.txt") == "seed\n"
    assert data.download_blob("out/result.txt").readall() == b"one\n"
    names = {blob.name for blob in data.list_blobs()}
    assert names == {"seed.txt", "out/result.txt"}  # no link.txt: links are not followed
    assert data.get_blob_client("seed.txt").get_blob_properties().etag == seeded  # not written again
    b.data.create_task("j", {"id": "rewrite", "commandLine": sh(f"echo two > {mount}/out/result.txt")})
    assert b.wait_task("j", "rewrite").execution_info.exit_code == 0
    assert data.download_blob("out/result.txt").readall() == b"two\n"


def test_dependencies_ranges_and_dependency_action(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=4)
    b.data.create_job(job("j", usesTaskDependencies=True))
    tasks = [{"id": str(i), "commandLine": "/bin/true"} for i in (1, 2, 3)]
    tasks += [
        {"id": "after-range", "commandLine": "/bin/true", "dependsOn": {"taskIdRanges": [{"start": 1, "end": 3}]}},
        {"id": "fails", "commandLine": sh("exit 1")},
        {"id": "blocked", "commandLine": "/bin/true", "dependsOn": {"taskIds": ["fails"]}},
        {"id": "fails-satisfied", "commandLine": sh("exit 2"),
         "exitConditions": {"exitCodes": [{"code": 2, "exitOptions": {"dependencyAction": "satisfy"}}]}},
        {"id": "runs", "commandLine": "/bin/true", "dependsOn": {"taskIds": ["fails-satisfied", "after-range"]}},
    ]
    result = b.data.create_tasks("j", tasks)
    assert result is not None
    runs = b.wait_task("j", "runs")
    after = b.wait_task("j", "after-range")
    ends = [b.data.get_task("j", str(i)).execution_info.end_time for i in (1, 2, 3)]
    assert after.execution_info.start_time >= max(ends)
    assert runs.execution_info.start_time >= after.execution_info.end_time
    assert b.wait_task("j", "fails").execution_info.result == "failure"
    assert b.data.get_task("j", "blocked").state == "active"


def test_retries(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=1)
    b.data.create_job(job("j", constraints={"maxTaskRetryCount": 2}))
    b.data.create_task("j", {"id": "t", "commandLine": sh("echo try >> $AZ_BATCH_NODE_SHARED_DIR/tries; exit 1")})
    done = b.wait_task("j", "t")
    assert (done.execution_info.retry_count, done.execution_info.result) == (2, "failure")
    assert node_file(b, done.node_info.node_id, "shared/tries") == "try\n" * 3


def test_wall_clock_kills_the_process_tree(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=1)
    b.data.create_job(job("j"))
    b.data.create_task("j", {"id": "t", "commandLine": sh("sleep 60 & echo $! > child.pid; wait"),
                             "constraints": {"maxWallClockTime": "PT1S"}})
    done = b.wait_task("j", "t")
    assert done.execution_info.failure_info.code == "MaxWallClockTimeExceeded"
    assert done.execution_info.result == "failure"
    child = int(b.file("j", "t", "wd/child.pid"))
    b.wait(lambda: not _alive(child), "the background child to be gone", timeout=5)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_terminate_task_kills_it(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=1)
    b.data.create_job(job("j"))
    b.data.create_task("j", {"id": "t", "commandLine": sh("sleep 60 & echo $! > child.pid; wait")})
    b.wait_task("j", "t", "running")
    b.wait(lambda: b.file("j", "t", "wd/child.pid").strip(), "child pid")
    child = int(b.file("j", "t", "wd/child.pid"))
    b.data.terminate_task("j", "t")
    assert b.data.get_task("j", "t").execution_info.failure_info.code == "TaskEnded"
    b.wait(lambda: not _alive(child), "the task's processes to be killed", timeout=5)


def test_multi_instance_env(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=2, slots=1)
    b.data.create_job(job("j"))
    b.data.create_task("j", {
        "id": "mpi",
        "commandLine": sh("env | grep ^AZ_BATCH_ | sort"),
        "multiInstanceSettings": {"numberOfInstances": 2, "coordinationCommandLine": sh(
            "echo $AZ_BATCH_IS_CURRENT_NODE_MASTER > $AZ_BATCH_NODE_SHARED_DIR/coordination")},
    })
    done = b.wait_task("j", "mpi")
    assert done.execution_info.exit_code == 0
    env = dict(line.split("=", 1) for line in b.file("j", "mpi", "stdout.txt").splitlines())
    hosts = env["AZ_BATCH_HOST_LIST"].split(",")
    assert len(hosts) == 2 and hosts[0] != hosts[1]
    assert env["AZ_BATCH_MASTER_NODE"].startswith(hosts[0] + ":")
    assert env["AZ_BATCH_IS_CURRENT_NODE_MASTER"] == "true"
    seen = sorted(node_file(b, n.id, "shared/coordination").strip() for n in b.data.list_nodes(POOL))
    assert seen == ["false", "true"]  # the coordination command ran on every node


def test_job_manager_ends_the_job(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=2)
    b.data.create_job(job("j", jobManagerTask={"id": "manager", "commandLine": sh("echo managing"),
                                               "killJobOnCompletion": True}))
    manager = b.wait_task("j", "manager")
    assert manager.execution_info.exit_code == 0
    assert b.file("j", "manager", "stdout.txt") == "managing\n"
    assert b.wait_job("j").execution_info.termination_reason == "JMComplete"


def test_exit_conditions_job_action(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=1)
    b.data.create_job(job("j", onTaskFailure="performexitoptionsjobaction"))
    b.data.create_task("j", {"id": "ok-3", "commandLine": sh("exit 3"), "exitConditions": {
        "exitCodes": [{"code": 3, "exitOptions": {"jobAction": "none"}}]}})
    assert b.wait_task("j", "ok-3").execution_info.exit_code == 3
    assert b.data.get_job("j").state == "active"
    b.data.create_task("j", {"id": "fatal", "commandLine": sh("exit 4"), "exitConditions": {
        "exitCodeRanges": [{"start": 4, "end": 9, "exitOptions": {"jobAction": "terminate"}}]}})
    assert b.wait_job("j").execution_info.termination_reason == "TaskFailed"


def test_slots_bound_concurrency(agent_batch: AgentBatch, tmp_path: Path) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=2)
    go, active = tmp_path / "go", tmp_path / "active"
    active.mkdir()
    # Each task registers itself, records how many are registered, waits at the barrier, leaves.
    script = (f"touch {active}/$AZ_BATCH_TASK_ID; ls {active} | wc -l; "
              f"while [ ! -f {go} ]; do sleep 0.02; done; rm {active}/$AZ_BATCH_TASK_ID")
    b.data.create_job(job("j"))
    b.data.create_tasks("j", [{"id": f"t{i}", "commandLine": sh(script)} for i in range(4)])
    # (a task may touch its file a moment before its `running` state is written: wait for both)
    b.wait(lambda: sorted(t.state for t in b.data.list_tasks("j")) == ["active", "active", "running", "running"]
           and len(os.listdir(active)) == 2, "two tasks at the barrier, two waiting for a slot")
    go.write_text("")
    for i in range(4):
        b.wait_task("j", f"t{i}")
    peaks = [int(b.file("j", f"t{i}", "stdout.txt")) for i in range(4)]
    assert max(peaks) <= 2


def test_windows_pool_and_containers_say_why(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool("win", nodes=1, slots=1, deploymentConfiguration={"virtualMachineConfiguration": {
        "imageReference": {"publisher": "microsoftwindowsserver", "offer": "windowsserver", "sku": "2022-datacenter"},
        "nodeAgentSkuId": "batch.node.windows amd64"}})
    b.data.create_job(job("w", "win"))
    b.data.create_task("w", {"id": "t", "commandLine": "cmd /c echo hi"})
    t = b.wait_task("w", "t")
    assert t.execution_info.failure_info.code == "UnsupportedOnLocalTarget"
    assert "Windows" in t.execution_info.failure_info.message
    assert [n.state for n in b.data.list_nodes("win")] == ["idle"]  # the pool itself still works
    b.pool(nodes=1, slots=1)
    b.agent.agent._container_runtime = False  # no container runtime answers (whatever this machine has)
    b.data.create_job(job("c"))
    b.data.create_task("c", {"id": "t", "commandLine": "/bin/true", "containerSettings": {"imageName": "ubuntu"}})
    c = b.wait_task("c", "t")
    assert c.execution_info.failure_info.code == "ContainerRuntimeNotFound"


def _zip(files: dict[str, tuple[bytes, int]]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, (data, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, data)
    return buf.getvalue()


def test_application_packages_unzipped_with_their_variables(agent_batch: AgentBatch) -> None:
    from tests.integration.emulator.test_batch_mgmt import upload

    b = agent_batch
    bm_client = b.emulator.clients.batch_mgmt
    app = bm_client.application.create("rg-agent", "baagent01", "tool", {"properties": {}})
    pkg = bm_client.application_package.create("rg-agent", "baagent01", "tool", "1.0-beta")
    upload(b.emulator, pkg.properties.storage_url, _zip({"bin/tool": (b"#!/bin/sh\necho tool $1\n", 0o755)}))
    bm_client.application_package.activate("rg-agent", "baagent01", "tool", "1.0-beta", {"format": "zip"})
    b.pool(nodes=1, slots=1, applicationPackages=[{"id": app.id, "version": "1.0-beta"}])
    b.data.create_job(job("j"))
    b.data.create_task("j", {"id": "t", "commandLine": sh('$AZ_BATCH_APP_PACKAGE_tool_1_0_beta/bin/tool ok; '
                                                          'env | grep "^AZ_BATCH_APP_PACKAGE" | sort')})
    done = b.wait_task("j", "t")
    out = b.file("j", "t", "stdout.txt").splitlines()
    assert done.execution_info.exit_code == 0, out
    assert out[0] == "tool ok"
    env = dict(line.split("=", 1) for line in out[1:])
    assert env["AZ_BATCH_APP_PACKAGE_tool#1.0-beta"] == env["AZ_BATCH_APP_PACKAGE_tool_1_0_beta"]
    assert "/applications/" in env["AZ_BATCH_APP_PACKAGE_tool_1_0_beta"]


def test_resize_down_requeues_the_tasks_of_removed_nodes(agent_batch: AgentBatch, tmp_path: Path) -> None:
    b = agent_batch
    go = tmp_path / "go"
    b.pool(nodes=2, slots=1)
    b.data.create_job(job("j"))
    wait_go = sh(f"while [ ! -f {go} ]; do sleep 0.05; done; echo $AZ_BATCH_NODE_ID")
    b.data.create_tasks("j", [{"id": "a", "commandLine": wait_go}, {"id": "b", "commandLine": wait_go}])
    b.wait(lambda: all(t.state == "running" for t in b.data.list_tasks("j")), "both tasks running")
    nodes = [n.id for n in b.data.list_nodes(POOL)]
    b.emulator.clients.batch_mgmt.pool.update("rg-agent", "baagent01", POOL, {"properties": {
        "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 1}}}})
    b.wait(lambda: any((t.execution_info.requeue_count or 0) == 1 for t in b.data.list_tasks("j")),
           "the task of the removed node requeued")
    go.write_text("")
    done = [b.wait_task("j", t) for t in ("a", "b")]
    assert {d.node_info.node_id for d in done} == {nodes[0]}  # both ended on the node that stayed
    assert sorted(d.execution_info.requeue_count for d in done) == [0, 1]


def test_retention_time_removes_the_task_directory(agent_batch: AgentBatch) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    b = agent_batch
    b.pool(nodes=1, slots=1)
    b.data.create_job(job("j"))
    b.data.create_task("j", {"id": "t", "commandLine": "/bin/echo kept", "constraints": {"retentionTime": "PT1S"}})
    b.wait_task("j", "t")

    def gone() -> bool:
        try:
            b.file("j", "t", "stdout.txt")
        except ResourceNotFoundError:
            return True
        return False

    b.wait(gone, "the task directory to be removed after its retention time", timeout=10)


def test_job_wall_clock_ends_its_running_tasks(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=1)
    b.data.create_job(job("j", constraints={"maxWallClockTime": "PT2S"}))
    b.data.create_task("j", {"id": "t", "commandLine": sh("sleep 60 & echo $! > child.pid; wait")})
    b.wait_task("j", "t", "running")
    assert b.wait_job("j").execution_info.termination_reason == "MaxWallClockTimeExpiry"
    t = b.wait_task("j", "t")
    assert t.execution_info.failure_info.code == "TaskEnded"
    child = int(b.file("j", "t", "wd/child.pid"))
    b.wait(lambda: not _alive(child), "the task's processes to be killed", timeout=5)


def test_deleting_a_job_kills_its_processes(agent_batch: AgentBatch, tmp_path: Path) -> None:
    b = agent_batch
    pid_file = tmp_path / "child.pid"
    b.pool(nodes=1, slots=1)
    b.data.create_job(job("j"))
    b.data.create_task("j", {"id": "t", "commandLine": sh(f"sleep 60 & echo $! > {pid_file}; wait")})
    b.wait(lambda: pid_file.exists() and pid_file.read_text().strip(), "the task to start its child")
    child = int(pid_file.read_text())
    b.data.begin_delete_job("j", polling_interval=0.05).result()
    b.wait(lambda: not _alive(child), "the deleted job's processes to be killed", timeout=5)


def test_updating_a_running_task_keeps_it_running_with_its_new_constraints(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=1)
    b.data.create_job(job("j"))
    b.data.create_task("j", {"id": "t", "commandLine": sh("sleep 60 & echo $! > child.pid; wait")})
    b.wait_task("j", "t", "running")
    b.wait(lambda: b.file("j", "t", "wd/child.pid").strip(), "child pid")
    b.data.replace_task("j", "t", {"constraints": {"maxWallClockTime": "PT2S"}})
    assert b.data.get_task("j", "t").state == "running"
    done = b.wait_task("j", "t")
    assert done.execution_info.failure_info.code == "MaxWallClockTimeExceeded"  # the new limit applied
    assert (done.execution_info.end_time - done.execution_info.start_time).total_seconds() >= 1.9


def test_a_deleted_pool_takes_its_node_directories(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool("short", nodes=1, slots=1)
    b.data.create_job(job("j", "short"))
    b.data.create_task("j", {"id": "t", "commandLine": sh("echo $AZ_BATCH_NODE_ROOT_DIR")})
    b.wait_task("j", "t")
    root = Path(b.file("j", "t", "stdout.txt").strip())
    assert (root / "workitems/j/job-1/t/stdout.txt").is_file()
    b.emulator.clients.batch_mgmt.pool.begin_delete("rg-agent", "baagent01", "short").result()
    b.wait(lambda: not root.exists() and not root.parent.exists(), "the node directories to be removed", timeout=10)
