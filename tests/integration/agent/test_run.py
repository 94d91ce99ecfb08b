"""Tasks really run: command lines, environment, exit codes, files through get-task-file."""

from __future__ import annotations

import socket

from azure.batch import models as bm

from .conftest import POOL, AgentBatch, new_job, task


def test_hello_runs_and_stdout_is_served(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=2)
    b.data.create_job(new_job("hello", uses_task_dependencies=False))
    b.data.create_task("hello", task("hello", '/bin/bash -c "echo hello from $(hostname)"'))
    done = b.wait_task("hello", "hello")
    assert done.execution_info.exit_code == 0
    assert done.execution_info.result == "success"
    assert done.execution_info.start_time <= done.execution_info.end_time
    assert done.node_info.pool_id == POOL
    out = b.file("hello", "hello", "stdout.txt")
    assert out == f"hello from {socket.gethostname()}\n"
    assert b.file("hello", "hello", "stderr.txt") == ""
    props = b.data.get_task_file_properties("hello", "hello", "stdout.txt")
    assert props.content_length == len(out.encode()) and props.is_directory is False
    # a byte range, as Azure serves one
    part = b"".join(b.data.download_task_file("hello", "hello", "stdout.txt", ocp_range="bytes=0-4")).decode()
    assert part == "hello"
    names = {f.name for f in b.data.list_task_files("hello", "hello", recursive=True)}
    assert {"stdout.txt", "stderr.txt", "wd"} <= names


def test_no_shell_and_failure_exit_code(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=2)
    b.data.create_job(new_job("j"))
    # Without a shell `$HOME` is a literal argument, as on Batch.
    b.data.create_task("j", task("literal", "/bin/echo $HOME 'a b'"))
    b.data.create_task("j", task("fails", '/bin/bash -c "echo oops >&2; exit 3"'))
    assert b.file("j", "literal", "stdout.txt") if b.wait_task("j", "literal") else None
    assert b.file("j", "literal", "stdout.txt") == "$HOME a b\n"
    failed = b.wait_task("j", "fails")
    assert failed.execution_info.exit_code == 3
    assert failed.execution_info.result == "failure"
    assert failed.execution_info.failure_info.code == "FailureExitCode"
    assert b.file("j", "fails", "stderr.txt") == "oops\n"


def test_environment(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.pool(nodes=1, slots=1)
    b.data.create_job(new_job(
        "envjob", common_environment_settings=[bm.EnvironmentSetting(name="COMMON", value="c"),
                                               bm.EnvironmentSetting(name="BOTH", value="job")]))
    b.data.create_task("envjob", task("env", '/bin/bash -c "env | sort"', environment_settings=[
        bm.EnvironmentSetting(name="BOTH", value="task")]))
    done = b.wait_task("envjob", "env")
    env = dict(line.split("=", 1) for line in b.file("envjob", "env", "stdout.txt").splitlines() if "=" in line)
    node = b.data.get_node(POOL, done.node_info.node_id)
    assert env["AZ_BATCH_ACCOUNT_NAME"] == "baagent01"
    assert env["AZ_BATCH_POOL_ID"] == POOL
    assert env["AZ_BATCH_JOB_ID"] == "envjob" and env["AZ_BATCH_TASK_ID"] == "env"
    assert env["AZ_BATCH_NODE_ID"] == node.id
    assert env["AZ_BATCH_NODE_IS_DEDICATED"] == "true"
    root = env["AZ_BATCH_NODE_ROOT_DIR"]
    assert env["AZ_BATCH_NODE_SHARED_DIR"] == f"{root}/shared"
    assert env["AZ_BATCH_NODE_STARTUP_DIR"] == f"{root}/startup"
    assert env["AZ_BATCH_NODE_MOUNTS_DIR"] == f"{root}/fsmounts"
    assert env["AZ_BATCH_TASK_DIR"] == f"{root}/workitems/envjob/job-1/env"
    assert env["AZ_BATCH_TASK_WORKING_DIR"] == f"{root}/workitems/envjob/job-1/env/wd"
    assert env["AZ_BATCH_JOB_PREP_DIR"] == f"{root}/workitems/envjob/job-1/jobpreparation"
    assert env["AZ_BATCH_TASK_USER_IDENTITY"] == "TaskNonAdmin"
    assert env["PWD"] == env["AZ_BATCH_TASK_WORKING_DIR"]
    assert (env["COMMON"], env["BOTH"]) == ("c", "task")
    assert done.node_info.task_root_directory == "workitems/envjob/job-1/env"
