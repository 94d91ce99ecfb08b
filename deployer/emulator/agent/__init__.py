"""The local node agent: runs the tasks of the emulator's Batch jobs on this machine.

Behind the Batch data plane, never beside it: the agent reads jobs, tasks and pools from the
emulator's store and writes task state (executionInfo, node info) back to it, so whatever reads
through the SDK — embedded, served, another process — sees the same thing. It adds nothing to the
HTTP surface but the files the tasks leave (batch_data's file routes read the node directories).

    settings   whether tasks run for a data directory (`target.execute`, default on for local)
    control    one agent per data directory (flock), background process or thread, wake-ups
    agent      the loop: schedule on slots, run, reap, enforce, retries, job actions
    lifecycle  nodes booting (mounts, packages, start task), job preparation and release tasks
    tasks      what the agent keeps per running task; requeue; why a task cannot run here
    node       a pool node: directories, slots, state written for list/get node
    layout     the node's directory layout (shared with the file routes)
    environment  AZ_BATCH_* and the task's environment settings
    process    command lines (shlex, no shell), process groups, killing trees
    files      resource files in, output files out, application packages, mounts
    rules      exit conditions, failure info, dependencies, retries

What the local target does not do: it never escalates (elevationLevel admin runs as the current
user), Windows pools' tasks end with failure code UnsupportedOnLocalTarget, and containerSettings
end with ContainerRuntimeNotFound (no runtime answers) or ContainerTasksNotSupportedLocally (one does:
containers are not started yet).
"""
