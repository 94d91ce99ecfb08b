"""Write-only secrets of Batch pools, jobs, tasks and job schedules, through the real SDK clients.

Azure never returns what a client sends as a secret (x-ms-secret in the management API, @secret in
the data plane's TypeSpec), and the emulator must not keep it in clear in its data directory: it
stores a salted digest (equal secrets still compare equal, so PropertyCannotBeUpdated works) and
drops the field from every response. Every secret here is a unique canary (uuid4 hex); after the
requests, no file under the test's directory (SQLite database, its WAL, the request log ...)
holds one, while a visible canary (a metadata value) is found, so the scan does see the data.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.core.rest import HttpRequest

from deployer.emulator.batch_mgmt import models
from deployer.emulator.batch_mgmt import secrets as table
from deployer.emulator.batch_mgmt.secrets import is_digest

RG = "rg-secrets"
LOCATION = "westeurope"
ACCOUNT = "secretacct"
DATA_API = "2025-06-01"
MGMT_API = "2025-06-01"
FIELD_NAMES = ("password", "accountKey", "sasKey", "sshPrivateKey", "protectedSettings")


@pytest.fixture(autouse=True)
def _instant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(models.RESIZE_ENV, "0")  # a pool has its nodes at once
    monkeypatch.delenv(models.QUOTAS_ENV, raising=False)


def canary() -> str:
    return uuid.uuid4().hex


def canaries(paths: tuple[str, ...]) -> dict[str, str]:
    return {path: canary() for path in paths}


# -- paths, the test's own reading of the table --------------------------------------------------


def values_at(doc: Any, path: str) -> list[Any]:
    """Every value a path (`a[].b.c`) names in a document."""
    nodes = [doc]
    for part in path.split("."):
        name, each = (part[:-2], True) if part.endswith("[]") else (part, False)
        found = []
        for node in nodes:
            if isinstance(node, dict) and name in node:
                value = node[name]
                found.extend(value if each and isinstance(value, list) else [] if each else [value])
        nodes = found
    return nodes


def with_value(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `doc` with the (existing) field at `path` set to `value`."""
    out = copy.deepcopy(doc)
    parts = path.split(".")
    nodes: list[Any] = [out]
    for part in parts[:-1]:
        name, each = (part[:-2], True) if part.endswith("[]") else (part, False)
        nodes = [x for n in nodes if name in n for x in (n[name] if each else [n[name]])]
    nodes = [n for n in nodes if parts[-1] in n]
    assert nodes, path
    for node in nodes:
        node[parts[-1]] = value
    return out


# -- bodies with every secret set ----------------------------------------------------------------


def registry(password: str) -> dict[str, Any]:
    return {"registryServer": "myregistry.azurecr.io", "username": "puller", "password": password}


def pool_properties(c: dict[str, str], visible: str, dedicated: int = 0) -> dict[str, Any]:
    """Management API pool properties with every secret of POOL_SECRETS set to its canary."""
    vmc = "deploymentConfiguration.virtualMachineConfiguration."
    return {
        "vmSize": "Standard_D2s_v3",
        "deploymentConfiguration": {
            "virtualMachineConfiguration": {
                "imageReference": {"publisher": "canonical", "offer": "ubuntu-jammy", "sku": "22_04-lts"},
                "nodeAgentSkuId": "batch.node.ubuntu 22.04",
                "containerConfiguration": {
                    "type": "DockerCompatible",
                    "containerImageNames": ["busybox"],
                    "containerRegistries": [registry(c[vmc + "containerConfiguration.containerRegistries[].password"])],
                },
                "extensions": [
                    {
                        "name": "kv",
                        "publisher": "Microsoft.Azure.KeyVault",
                        "type": "KeyVaultForLinux",
                        "typeHandlerVersion": "2.0",
                        "settings": {"visible": visible},
                        "protectedSettings": {"token": c[vmc + "extensions[].protectedSettings"]},
                    }
                ],
            }
        },
        "scaleSettings": {"fixedScale": {"targetDedicatedNodes": dedicated}},
        "mountConfiguration": [
            {
                "azureBlobFileSystemConfiguration": {
                    "accountName": "stmounts",
                    "containerName": "bykey",
                    "accountKey": c["mountConfiguration[].azureBlobFileSystemConfiguration.accountKey"],
                    "sasKey": c["mountConfiguration[].azureBlobFileSystemConfiguration.sasKey"],
                    "relativeMountPath": "blob",
                }
            },
            {
                "azureFileShareConfiguration": {
                    "accountName": "stmounts",
                    "azureFileUrl": "https://stmounts.file.core.windows.net/share",
                    "accountKey": c["mountConfiguration[].azureFileShareConfiguration.accountKey"],
                    "relativeMountPath": "share",
                }
            },
            {
                "cifsMountConfiguration": {
                    "userName": "mounter",
                    "source": "//fileserver/share",
                    "relativeMountPath": "cifs",
                    "password": c["mountConfiguration[].cifsMountConfiguration.password"],
                }
            },
        ],
        "startTask": {
            "commandLine": "/bin/bash -c 'echo start'",
            "containerSettings": {
                "imageName": "busybox",
                "registry": registry(c["startTask.containerSettings.registry.password"]),
            },
        },
        "userAccounts": [
            {
                "name": "alice",
                "password": c["userAccounts[].password"],
                "elevationLevel": "Admin",
                "linuxUserConfiguration": {
                    "uid": 1000,
                    "gid": 1000,
                    "sshPrivateKey": c["userAccounts[].linuxUserConfiguration.sshPrivateKey"],
                },
            }
        ],
        "metadata": [{"name": "visible", "value": visible}],
    }


def task_container(password: str) -> dict[str, Any]:
    return {"imageName": "busybox", "registry": registry(password)}


def pool_specification(c: dict[str, str], visible: str) -> dict[str, Any]:
    """The data plane's pool specification (a job's auto pool) with every secret set."""
    props = pool_properties(c, visible)
    vmc = props.pop("deploymentConfiguration")["virtualMachineConfiguration"]
    vmc["nodeAgentSKUId"] = vmc.pop("nodeAgentSkuId")
    vmc["containerConfiguration"]["type"] = "dockerCompatible"  # the service API's case of each enum
    props["userAccounts"][0]["elevationLevel"] = "admin"
    cifs = props["mountConfiguration"][2]["cifsMountConfiguration"]
    cifs["username"] = cifs.pop("userName")
    props.pop("scaleSettings")
    return {"vmSize": "standard_d2s_v3", "virtualMachineConfiguration": vmc, "targetDedicatedNodes": 0, **props}


def job_properties(c: dict[str, str], visible: str) -> dict[str, Any]:
    """A job's properties (data plane) with every secret of JOB_SECRETS set to its canary."""
    pool_c = {
        p.removeprefix("poolInfo.autoPoolSpecification.pool."): v
        for p, v in c.items()
        if p.startswith("poolInfo.autoPoolSpecification.pool.")
    }
    pool_c = {("deploymentConfiguration." + p if p.startswith("virtualMachine") else p): v for p, v in pool_c.items()}
    return {
        "jobManagerTask": {
            "id": "manager",
            "commandLine": "/bin/true",
            "containerSettings": task_container(c["jobManagerTask.containerSettings.registry.password"]),
        },
        "jobPreparationTask": {
            "commandLine": "/bin/true",
            "containerSettings": task_container(c["jobPreparationTask.containerSettings.registry.password"]),
        },
        "jobReleaseTask": {
            "commandLine": "/bin/true",
            "containerSettings": task_container(c["jobReleaseTask.containerSettings.registry.password"]),
        },
        "poolInfo": {
            "autoPoolSpecification": {
                "autoPoolIdPrefix": "auto",
                "poolLifetimeOption": "job",
                "pool": pool_specification(pool_c, visible),
            }
        },
        "metadata": [{"name": "visible", "value": visible}],
    }


# -- checks --------------------------------------------------------------------------------------


def files_under(root: Path) -> Iterator[Path]:
    return (p for p in sorted(root.rglob("*")) if p.is_file())


def found_in_files(root: Path, needle: str) -> list[str]:
    """Files holding `needle`, or either half of it (a value split over two SQLite pages keeps one
    half whole), reading every byte: the database, its WAL and shared memory, logs."""
    halves = [needle.encode(), needle[: len(needle) // 2].encode(), needle[len(needle) // 2 :].encode()]
    return [str(p) for p in files_under(root) if any(h in p.read_bytes() for h in halves)]


def assert_not_on_disk(root: Path, secrets: dict[str, str], visible: str) -> None:
    assert found_in_files(root, visible), "the scan should see what is stored"
    leaked = {path: files for path, value in secrets.items() if (files := found_in_files(root, value))}
    assert leaked == {}


def assert_no_secrets(text: str, secrets: dict[str, str]) -> None:
    """A response body: no secret value, no secret field (whatever its value)."""
    assert [p for p, v in secrets.items() if v in text] == []
    assert [f for f in FIELD_NAMES if f'"{f}"' in text] == []


def assert_stored_as_digests(doc: dict[str, Any], secrets: dict[str, str]) -> None:
    for path, value in secrets.items():
        stored = values_at(doc, path)
        assert stored and all(is_digest(v) for v in stored), (path, stored)
        assert value not in str(stored)


def raw_text(resp: Any, _body: Any, _headers: Any) -> str:
    """`cls=` for the management client: the response body as sent."""
    return str(resp.http_response.text())


# -- management API: pools -----------------------------------------------------------------------


class Env:
    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        c = emulator.clients
        c.resource.resource_groups.create_or_update(RG, {"location": LOCATION})
        account = c.batch_mgmt.batch_account.begin_create(RG, ACCOUNT, {"location": LOCATION}).result()
        self.endpoint = account.account_endpoint
        self.pool = c.batch_mgmt.pool
        self.store = emulator.app.store
        self.account_doc = models.account_by_name(self.store, ACCOUNT)

    def arm_get(self, suffix: str) -> str:
        """GET on the account's ARM id + suffix (a list the SDK would page through), as sent."""
        path = f"/subscriptions/{self.emulator.subscription}/resourceGroups/{RG}/providers/Microsoft.Batch"
        request = HttpRequest("GET", f"{path}/batchAccounts/{ACCOUNT}{suffix}", params={"api-version": MGMT_API})
        return str(self.emulator.clients.batch_mgmt.send_request(request).text())

    def stored(self, name: str) -> dict[str, Any]:
        doc = models.pool_of(self.store, self.account_doc, name)
        assert doc is not None
        return doc.body["properties"]

    def create(self, name: str, props: dict[str, Any]) -> str:
        return str(self.pool.create(RG, ACCOUNT, name, {"properties": props}, cls=raw_text))

    def patch(self, name: str, props: dict[str, Any]) -> str:
        return str(self.pool.update(RG, ACCOUNT, name, {"properties": props}, cls=raw_text))


@pytest.fixture
def env(emulator: Any) -> Env:
    return Env(emulator)


def test_the_table_covers_every_secret_field() -> None:
    """Every path of POOL_SECRETS is set by the test's pool (the table and the body agree)."""
    secrets = canaries(table.POOL_SECRETS)
    props = pool_properties(secrets, canary())
    for path, value in secrets.items():
        got = values_at(props, path)
        assert got == [value] or got == [{"token": value}], path
    assert len(table.POOL_SECRETS) == len(set(table.POOL_SECRETS)) == 9


def test_pool_secrets_are_never_returned_nor_stored(env: Env, tmp_path: Path) -> None:
    secrets, visible = canaries(table.POOL_SECRETS), canary()
    created = env.create("p", pool_properties(secrets, visible))
    assert_no_secrets(created, secrets)
    assert visible in created and "linuxUserConfiguration" in created and '"uid":1000' in created.replace(" ", "")
    assert_no_secrets(str(env.pool.get(RG, ACCOUNT, "p", cls=raw_text)), secrets)
    assert_no_secrets(env.arm_get("/pools"), secrets)
    # the SDK's model sees no secret either (sshPrivateKey is not echoed)
    p = env.pool.get(RG, ACCOUNT, "p")
    user = p.user_accounts[0]
    assert user.password is None and user.linux_user_configuration.ssh_private_key is None
    assert user.linux_user_configuration.uid == 1000
    assert p.start_task.container_settings.registry.password is None
    assert p.start_task.container_settings.registry.user_name == "puller"
    assert p.mount_configuration[2].cifs_mount_configuration.password is None

    assert_stored_as_digests(env.stored("p"), secrets)
    assert_not_on_disk(tmp_path, secrets, visible)


def test_pool_secrets_through_the_data_plane_are_not_returned(env: Env, tmp_path: Path) -> None:
    secrets, visible = canaries(table.POOL_SECRETS), canary()
    env.create("p", pool_properties(secrets, visible, dedicated=1))
    data = env.emulator.clients.batch_data(env.endpoint)
    for path in ("/pools/p", "/pools", "/pools/p/nodes"):
        text = data.send_request(
            HttpRequest("GET", f"https://{env.endpoint}{path}", params={"api-version": DATA_API})
        ).text()
        assert visible in text or path.endswith("/nodes")
        assert_no_secrets(text, secrets)
    node = next(iter(data.list_nodes("p")))
    assert node.start_task.container_settings.registry.username == "puller"
    assert node.start_task.container_settings.registry.password is None
    assert data.get_pool("p").user_accounts[0].linux_user_configuration.ssh_private_key is None
    assert_not_on_disk(tmp_path, secrets, visible)


def test_pool_secrets_written_through_the_data_plane_are_digested(env: Env, tmp_path: Path) -> None:
    data = env.emulator.clients.batch_data(env.endpoint)
    secrets, visible = canaries(table.POOL_SECRETS), canary()
    data.create_pool({"id": "dp", **pool_specification(secrets, visible)})
    assert_stored_as_digests(env.stored("dp"), secrets)
    assert_no_secrets(get_text(data, env.endpoint, "/pools/dp"), secrets)
    assert_no_secrets(str(env.pool.get(RG, ACCOUNT, "dp", cls=raw_text)), secrets)

    # PATCH and the start task's replacement (updateproperties) digest what they bring too
    path = "startTask.containerSettings.registry.password"
    patched, replaced = canary(), canary()
    spec = pool_specification(secrets, visible)
    data.update_pool("dp", {"startTask": with_value(spec, path, patched)["startTask"]})
    assert values_at(env.stored("dp"), path) != [patched] and all(map(is_digest, values_at(env.stored("dp"), path)))
    data.replace_pool_properties(
        "dp",
        {
            "startTask": with_value(spec, path, replaced)["startTask"],
            "applicationPackageReferences": [],
            "metadata": [{"name": "visible", "value": visible}],
        },
    )
    assert_stored_as_digests(env.stored("dp"), {**secrets, path: replaced})
    assert_no_secrets(get_text(data, env.endpoint, "/pools/dp"), {**secrets, "p": patched, "r": replaced})
    assert_not_on_disk(tmp_path, {**secrets, "patched": patched, "replaced": replaced}, visible)


# A secret in a property only an empty pool may change (all but the start task's registry).
EMPTY_ONLY = [p for p in table.POOL_SECRETS if p.split(".")[0].removesuffix("[]") in models.EMPTY_POOL_ONLY]


def test_every_secret_but_the_start_tasks_needs_an_empty_pool() -> None:
    assert len(EMPTY_ONLY) == len(table.POOL_SECRETS) - 1
    assert "startTask.containerSettings.registry.password" not in EMPTY_ONLY


@pytest.mark.parametrize("path", EMPTY_ONLY)
def test_patch_with_the_same_secret_is_no_change_and_another_is(env: Env, tmp_path: Path, path: str) -> None:
    secrets, visible = canaries(table.POOL_SECRETS), canary()
    props = pool_properties(secrets, visible, dedicated=1)
    env.create("p", props)
    assert env.pool.get(RG, ACCOUNT, "p").current_dedicated_nodes == 1
    top = path.split(".")[0].removesuffix("[]")
    stored = env.stored("p")[top]

    # the same value again (PATCH naming the property, and a PUT of the whole pool): no change
    env.patch("p", {top: props[top]})
    env.pool.create(RG, ACCOUNT, "p", {"properties": props})
    assert env.stored("p")[top] == stored
    # a PATCH that omits the property keeps the stored digests
    env.patch("p", {"metadata": [{"name": "visible", "value": visible}, {"name": "more", "value": "1"}]})
    assert env.stored("p")[top] == stored
    env.patch("p", {top: props[top]})

    # another value of this one secret: a change, refused while the pool has nodes
    other = canary()
    changed = with_value(props, path, {"token": other} if path.endswith("protectedSettings") else other)
    for write in (
        lambda: env.patch("p", {top: changed[top]}),
        lambda: env.pool.create(RG, ACCOUNT, "p", {"properties": changed}),
    ):
        with pytest.raises(HttpResponseError) as err:
            write()
        assert (err.value.status_code, err.value.error.code) == (400, "PropertyCannotBeUpdated")
        assert other not in str(err.value)
        details = {d.code: d.message for d in err.value.error.details}
        assert details["PropertyName"] == top
    assert env.stored("p")[top] == stored

    # an empty pool takes the new secret (and stores its digest)
    env.patch("p", {"scaleSettings": {"fixedScale": {"targetDedicatedNodes": 0}}})
    assert_no_secrets(env.patch("p", {top: changed[top]}), {**secrets, path: other})
    assert env.stored("p")[top] != stored
    assert_stored_as_digests(env.stored("p"), {**secrets, path: other})
    assert_not_on_disk(tmp_path, {**secrets, "changed": other}, visible)


def test_start_task_secret_changes_freely_and_stays_a_digest(env: Env, tmp_path: Path) -> None:
    path = "startTask.containerSettings.registry.password"
    secrets, visible = canaries(table.POOL_SECRETS), canary()
    props = pool_properties(secrets, visible, dedicated=1)
    env.create("p", props)
    before = values_at(env.stored("p"), path)
    other = canary()
    text = env.patch("p", {"startTask": with_value(props, path, other)["startTask"]})
    assert_no_secrets(text, {**secrets, path: other})
    after = values_at(env.stored("p"), path)
    assert before != after and all(is_digest(v) for v in before + after)
    assert_not_on_disk(tmp_path, {**secrets, "changed": other}, visible)


def test_equal_secrets_of_two_pools_share_one_salt(env: Env) -> None:
    """One salt per data directory: the same password gives the same digest in every pool."""
    secrets, visible = canaries(table.POOL_SECRETS), canary()
    env.create("a", pool_properties(secrets, visible))
    env.create("b", pool_properties(secrets, visible))
    assert env.stored("a") == env.stored("b")
    assert len(env.store.list(table.SALT_KIND)) == 1


def test_secrets_stored_in_clear_by_an_older_emulator_are_sealed_on_the_next_write(env: Env) -> None:
    secrets, visible = canaries(table.POOL_SECRETS), canary()
    props = pool_properties(secrets, visible, dedicated=1)
    env.create("p", props)
    doc = models.pool_of(env.store, env.account_doc, "p")
    assert doc is not None
    legacy = copy.deepcopy(doc.body)  # as an emulator before digests kept it: in clear
    legacy["properties"]["mountConfiguration"] = copy.deepcopy(props["mountConfiguration"])
    env.store.put(doc.kind, doc.key, legacy, parent=doc.parent)
    assert_no_secrets(str(env.pool.get(RG, ACCOUNT, "p", cls=raw_text)), secrets)

    env.patch("p", {"mountConfiguration": props["mountConfiguration"]})  # the same: no change
    assert_stored_as_digests(env.stored("p"), secrets)
    with pytest.raises(HttpResponseError) as err:
        changed = with_value(props, "mountConfiguration[].cifsMountConfiguration.password", canary())
        env.patch("p", {"mountConfiguration": changed["mountConfiguration"]})
    assert err.value.error.code == "PropertyCannotBeUpdated"


# -- data plane: jobs, tasks, job schedules ------------------------------------------------------


def get_text(data: Any, endpoint: str, path: str) -> str:
    return str(
        data.send_request(HttpRequest("GET", f"https://{endpoint}{path}", params={"api-version": DATA_API})).text()
    )


def test_job_task_and_schedule_secrets_are_never_returned_nor_stored(env: Env, tmp_path: Path) -> None:
    data = env.emulator.clients.batch_data(env.endpoint)
    visible = canary()
    job_secrets = canaries(table.JOB_SECRETS)
    spec = job_properties(job_secrets, visible)
    for path, value in job_secrets.items():  # the body sets every path of the table
        assert values_at(spec, path) in ([value], [{"token": value}]), path

    data.create_job({"id": "j", **spec})
    task_secret, listed_secret = canary(), canary()
    data.create_task("j", {"id": "t", "commandLine": "/bin/true", "containerSettings": task_container(task_secret)})
    data.create_tasks(
        "j", [{"id": "u", "commandLine": "/bin/true", "containerSettings": task_container(listed_secret)}]
    )
    schedule_secrets = canaries(table.JOB_SECRETS)
    data.create_job_schedule(
        {
            "id": "s",
            "schedule": {"recurrenceInterval": "PT1H"},
            "jobSpecification": job_properties(schedule_secrets, visible),
        }
    )
    all_secrets = {
        **{"job " + k: v for k, v in job_secrets.items()},
        **{"schedule " + k: v for k, v in schedule_secrets.items()},
        "task": task_secret,
        "task in a collection": listed_secret,
    }
    for path in ("/jobs/j", "/jobs", "/jobs/j/tasks/t", "/jobs/j/tasks", "/jobschedules/s", "/jobschedules"):
        text = get_text(data, env.endpoint, path)
        assert "registry" in text and "puller" in text
        assert_no_secrets(text, all_secrets)
    job = data.get_job("j")
    assert job.job_manager_task.container_settings.registry.password is None
    user = job.pool_info.auto_pool_specification.pool.user_accounts[0]
    assert user.password is None and user.linux_user_configuration.ssh_private_key is None
    assert data.get_task("j", "t").container_settings.registry.password is None

    store, acct = env.store, env.account_doc
    assert_stored_as_digests(store.get("batchJob", f"{acct.key}/jobs/j").body, job_secrets)
    assert_stored_as_digests(
        store.get("batchJobSchedule", f"{acct.key}/jobschedules/s").body,
        {"jobSpecification." + k: v for k, v in schedule_secrets.items()},
    )
    for tid, value in (("t", task_secret), ("u", listed_secret)):
        task = store.get("batchTask", f"{acct.key}/jobs/j/tasks/{tid}").body
        assert_stored_as_digests(task, {"containerSettings.registry.password": value})
    assert_not_on_disk(tmp_path, all_secrets, visible)


def test_job_pool_info_with_the_same_secrets_is_no_change(env: Env, tmp_path: Path) -> None:
    data = env.emulator.clients.batch_data(env.endpoint)
    visible = canary()
    job_secrets = canaries(table.JOB_SECRETS)
    spec = job_properties(job_secrets, visible)
    data.create_job({"id": "j", **spec})
    data.create_task("j", {"id": "keep", "commandLine": "echo"})  # keeps the job active

    data.update_job("j", {"poolInfo": spec["poolInfo"], "priority": 5})  # the same auto pool: no change
    assert data.get_job("j").priority == 5
    other = canary()
    path = "poolInfo.autoPoolSpecification.pool.userAccounts[].password"
    with pytest.raises(ResourceExistsError) as err:
        data.update_job("j", {"poolInfo": with_value(spec, path, other)["poolInfo"]})
    assert err.value.error.code == "OperationInvalidForCurrentState"
    assert other not in str(err.value)

    # job schedules: PATCH and PUT store the new specification as digests too
    data.create_job_schedule(
        {
            "id": "s",
            "schedule": {"recurrenceInterval": "PT1H"},
            "jobSpecification": job_properties(job_secrets, visible),
        }
    )
    patched = canaries(table.JOB_SECRETS)
    data.update_job_schedule("s", {"jobSpecification": job_properties(patched, visible)})
    replaced = canaries(table.JOB_SECRETS)
    data.replace_job_schedule(
        "s", {"schedule": {"recurrenceInterval": "PT1H"}, "jobSpecification": job_properties(replaced, visible)}
    )
    text = get_text(data, env.endpoint, "/jobschedules/s")
    assert_no_secrets(text, {**patched, **{"r " + k: v for k, v in replaced.items()}})
    stored = env.store.get("batchJobSchedule", f"{env.account_doc.key}/jobschedules/s").body
    assert_stored_as_digests(stored, {"jobSpecification." + k: v for k, v in replaced.items()})
    assert_not_on_disk(
        tmp_path,
        {
            "changed": other,
            **{"job " + k: v for k, v in job_secrets.items()},
            **{"patched " + k: v for k, v in patched.items()},
            **{"replaced " + k: v for k, v in replaced.items()},
        },
        visible,
    )
