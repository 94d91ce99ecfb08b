"""get-task-file with byte ranges and get-task-file-properties, as `deploy logs` uses them, through the
SDK (azure-batch accepts only status 200 for a download, so a range is answered 200 with just its
bytes), on both emulator modes."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from deployer.ops.reader import TaskNotStartedError, file_size

from .conftest import AgentBatch, new_job, task

TEXT = "0123456789abcdef\n"  # 17 bytes

RANGES = [  # (ocp-range, the bytes served)
    ("bytes=0-4", "01234"),
    ("bytes=10-16", "abcdef\n"),
    ("bytes=10-", "abcdef\n"),  # open-ended: to the end
    ("bytes=-3", "ef\n"),  # suffix: the last 3 bytes
    ("bytes=-100", TEXT),  # a suffix longer than the file: all of it
    ("bytes=12-9999", "cdef\n"),  # an end past the file: up to its end
    ("bytes=16-16", "\n"),
]
BAD_RANGES = ["bytes=17-", "bytes=5-2", "bytes=-", "lines=1-2"]


@pytest.fixture
def written(agent_batch: AgentBatch) -> AgentBatch:
    b = agent_batch
    b.pool(nodes=1, slots=1)
    b.data.create_job(new_job("files"))
    b.data.create_task("files", task("t", f"/bin/printf '{TEXT[:-1]}\\n'"))
    assert b.wait_task("files", "t").execution_info.exit_code == 0
    return b


def test_ranges_answer_200_with_the_bytes_asked_for(written: AgentBatch) -> None:
    b = written
    assert b.file("files", "t", "stdout.txt") == TEXT
    for ocp_range, expected in RANGES:
        got = b"".join(b.data.download_task_file("files", "t", "stdout.txt", ocp_range=ocp_range)).decode()
        assert got == expected, ocp_range
    for ocp_range in BAD_RANGES:
        with pytest.raises(HttpResponseError) as caught:
            b"".join(b.data.download_task_file("files", "t", "stdout.txt", ocp_range=ocp_range))
        assert caught.value.status_code == 416, ocp_range


def test_properties_and_missing_files(written: AgentBatch) -> None:
    b = written
    props = b.data.get_task_file_properties("files", "t", "stdout.txt")
    assert props.content_length == len(TEXT) and props.is_directory is False
    assert props.url.endswith("/jobs/files/tasks/t/files/stdout.txt")
    assert props.file_mode and int(props.file_mode, 8) & 0o100000  # a regular file
    assert props.last_modified is not None and props.creation_time is not None
    wd = b.data.get_task_file_properties("files", "t", "wd")
    assert wd.is_directory is True and wd.content_length == 0
    with pytest.raises(ResourceNotFoundError):
        b.data.get_task_file_properties("files", "t", "nope.txt")
    with pytest.raises(ResourceNotFoundError):
        b"".join(b.data.download_task_file("files", "t", "nope.txt"))
    with pytest.raises(ResourceNotFoundError):  # never outside the task's directory
        b.data.get_task_file_properties("files", "t", "../../../../../../etc/passwd")


def test_a_task_not_started_has_no_files_yet(agent_batch: AgentBatch) -> None:
    """409 TaskNotStarted, for the properties (a HEAD: no body, the status says it) and the content."""
    b = agent_batch
    b.data.create_job(new_job("waiting", pool_id="nopool"))  # no such pool: the task stays active
    b.data.create_task("waiting", task("t", "/bin/true"))
    with pytest.raises(ResourceExistsError):
        b.data.get_task_file_properties("waiting", "t", "stdout.txt")
    with pytest.raises(ResourceExistsError):  # (the SDK streams downloads: it does not read the error's body)
        b"".join(b.data.download_task_file("waiting", "t", "stdout.txt"))
    # what `deploy logs` makes of it: a clear error, or (following) "nothing yet"
    with pytest.raises(TaskNotStartedError, match="task t of job waiting has not started yet"):
        file_size(b.data, "waiting", "t", "stdout.txt")
