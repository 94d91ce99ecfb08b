"""The emulator core through real Azure SDK pipelines, embedded and served."""

from __future__ import annotations

import json
import multiprocessing
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.core.polling import LROPoller
from azure.core.rest import HttpRequest
from azure.mgmt.core.polling.arm_polling import ARMPolling

from deployer.azure import Clients
from deployer.emulator.core import (
    ABSENT,
    ApiError,
    Request,
    Response,
    Router,
    StaleWrite,
    Store,
    clock,
    etag,
    ids,
    lro,
    paging,
    render_storage_xml,
)

API = "2025-04-01"
SUB = "00000000-0000-0000-0000-000000000000"


def send(emulator, method: str, path: str, *, api_version: str | None = API, **kwargs):
    params = {"api-version": api_version} if api_version else {}
    req = HttpRequest(method, path, params=params, json=kwargs.pop("json", None))
    return emulator.clients.resource.send_request(req, **kwargs)


def no_traceback(text: str) -> bool:
    return "Traceback" not in text and 'File "' not in text


# -- routing, errors, api-version, auth -------------------------------------------------------


def test_unknown_resource_type_is_an_arm_error(emulator):
    resp = send(emulator, "GET", f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Nope/things/x")
    assert resp.status_code == 404
    body = resp.json()
    assert body["error"]["code"] == "InvalidResourceType"
    assert "'things'" in body["error"]["message"] and "'Microsoft.Nope'" in body["error"]["message"]
    assert no_traceback(resp.text())


def test_unknown_path_is_not_found(emulator):
    resp = send(emulator, "GET", "/nothing/here")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "NotFound"


def test_wrong_method_is_405_with_allow(emulator):
    resp = send(emulator, "POST", f"/subscriptions/{SUB}/resourcegroups/rg1")
    assert resp.status_code == 405
    assert resp.json()["error"]["code"] == "MethodNotAllowed"
    assert "GET" in resp.headers["Allow"] and "PUT" in resp.headers["Allow"]


def test_missing_api_version(emulator):
    resp = send(emulator, "GET", f"/subscriptions/{SUB}/resourcegroups", api_version=None)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "MissingApiVersionParameter"


def test_missing_authorization_is_401(emulator):
    from azure.core import PipelineClient

    kwargs = {"transport": emulator.clients.transport} if emulator.mode == "embedded" else {}
    if emulator.mode == "served":
        kwargs["connection_verify"] = str(emulator.server.ca_file)
    with PipelineClient(emulator.endpoint, **kwargs) as client:  # no authentication policy
        resp = client.send_request(
            HttpRequest("GET", f"{emulator.endpoint}/subscriptions/{SUB}/resourcegroups?api-version={API}")
        )
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "AuthenticationFailed"


def test_unexpected_exception_is_500_without_traceback(emulator):
    def boom(req: Request, sub: str) -> Response:
        raise KeyError("secret-internal-detail")

    emulator.app.router.add("GET", "/subscriptions/{sub}/providers/Test.Core/boom", boom)
    resp = send(emulator, "GET", f"/subscriptions/{SUB}/providers/Test.Core/boom", retry_total=0)
    assert resp.status_code == 500
    assert resp.json()["error"]["code"] == "InternalServerError"
    assert no_traceback(resp.text()) and "secret-internal-detail" not in resp.text()
    log = (emulator.data_dir / "emulator-errors.log").read_text()
    assert "Traceback" in log and "secret-internal-detail" in log


def test_service_error_renderers_by_prefix(emulator):
    from deployer.emulator.core import render_batch, render_storage_xml

    emulator.app.router.errors("/test-batch/", render_batch)
    emulator.app.router.errors("/test-blob/", render_storage_xml)

    def fail(req: Request, rest: str) -> Response:
        raise ApiError(409, "PoolExists", "The specified pool already exists.", details=[{"key": "k", "value": "v"}])

    emulator.app.router.add("GET", "/test-batch/{rest*}", fail)
    resp = send(emulator, "GET", "/test-batch/a/b")
    assert resp.status_code == 409
    assert resp.json()["code"] == "PoolExists"
    assert resp.json()["message"] == {"lang": "en-US", "value": "The specified pool already exists."}
    assert resp.json()["values"] == [{"key": "k", "value": "v"}]
    resp = send(emulator, "GET", "/test-blob/acct/container", api_version=None)
    assert resp.status_code == 404
    assert resp.headers["x-ms-error-code"] == "NotFound"
    assert resp.text().startswith("<?xml") and "<Code>NotFound</Code>" in resp.text()


# -- faults, latency, request log --------------------------------------------------------------


def test_429_faults_are_recovered_by_the_sdk_retry_policy(emulator, faults):
    faults("429=0.35", seed=11)
    groups = emulator.clients.resource.resource_groups
    for i in range(6):
        groups.create_or_update(f"rg-{i}", {"location": "westus"})
    names = sorted(g.name for g in groups.list())
    assert names == [f"rg-{i}" for i in range(6)]

    log = emulator.requests()
    throttled = [i for i, e in enumerate(log) if e["status"] == 429]
    assert throttled, "the seed should produce some 429s"
    for i in throttled:
        assert log[i]["fault"] == "429"
        retry = log[i + 1]  # the SDK retried the same request right after
        assert (retry["method"], retry["path"]) == (log[i]["method"], log[i]["path"])
    assert sum(1 for e in log if e["method"] == "PUT" and e["status"] == 201) == 6


def test_429_carries_retry_after(emulator, faults):
    faults("429=1")
    resp = send(emulator, "GET", f"/subscriptions/{SUB}/resourcegroups", retry_total=0)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "0"
    assert resp.json()["error"]["code"] == "TooManyRequests"


def test_connection_reset_is_a_service_response_error_and_retried(emulator, faults):
    groups = emulator.clients.resource.resource_groups
    groups.create_or_update("rg", {"location": "westus"})
    faults("reset=1")
    with pytest.raises(ServiceResponseError):
        groups.get("rg", retry_total=0)
    faults("reset=0.4", seed=5)
    for _ in range(5):
        assert groups.get("rg").name == "rg"
    resets = [e for e in emulator.requests() if e.get("fault") == "reset"]
    assert len(resets) >= 2
    assert all(e["status"] is None for e in resets)


def test_latency_is_added_to_every_request(emulator, faults):
    emulator.clients.resource.resource_groups.check_existence("warm-up")
    faults(latency_ms=60)
    started = time.perf_counter()
    emulator.clients.resource.resource_groups.check_existence("x")
    assert time.perf_counter() - started >= 0.06
    assert emulator.requests()[-1]["ms"] >= 60


def test_request_log_lines(emulator):
    emulator.clients.resource.resource_groups.create_or_update("logged", {"location": "westus"})
    emulator.clients.resource.resource_groups.check_existence("missing")
    entries = emulator.requests()
    assert [(e["method"], e["status"]) for e in entries[-2:]] == [("PUT", 201), ("HEAD", 404)]
    last = entries[-1]
    assert set(last) == {"time", "method", "path", "status", "ms"}
    assert last["path"] == f"/subscriptions/{SUB}/resourcegroups/missing"
    assert last["time"].endswith("Z") and isinstance(last["ms"], float)


# -- long-running operations -----------------------------------------------------------------


def _lro_routes(emulator, duration: float, fail: bool = False) -> None:
    thing = "/subscriptions/{sub}/providers/Test.Lro/things/{name}"

    def put(req: Request, sub: str, name: str) -> Response:
        req.store.put("thing", name, {"name": name, "state": "made"})
        return lro.accepted(
            req,
            provider="Test.Lro",
            location="westus",
            result_path=req.path,
            duration=duration,
            error=ApiError(409, "ThingFailed", "It broke.") if fail else None,
            async_header=req.query.get("style") != "location",
        )

    def get(req: Request, sub: str, name: str) -> Response:
        doc = req.store.get("thing", name)
        if doc is None:
            raise ApiError(404, "ResourceNotFound", "no thing")
        return Response.json(doc.body)

    emulator.app.router.add("PUT", thing, put)
    emulator.app.router.add("GET", thing, get)


def _poller(emulator, name: str, style: str = "async") -> LROPoller:
    client = emulator.clients.resource._client
    req = HttpRequest(
        "PUT",
        f"{emulator.endpoint}/subscriptions/{SUB}/providers/Test.Lro/things/{name}",
        params={"api-version": API, "style": style},
        json={},
    )
    initial = client._pipeline.run(req, stream=False)
    assert initial.http_response.status_code == 202
    assert initial.http_response.headers["Retry-After"] == "0"
    return LROPoller(client, initial, lambda r: r.http_response.json(), ARMPolling(0.01))


@pytest.mark.parametrize("style", ["async", "location"])
def test_lro_pollers_finish(emulator, style):
    _lro_routes(emulator, duration=0.05)
    poller = _poller(emulator, "t1", style)
    assert poller.result(timeout=10) == {"name": "t1", "state": "made"}
    assert poller.status() == "Succeeded"
    polls = [e for e in emulator.requests() if "/operation" in e["path"]]
    assert len(polls) >= 2  # InProgress at least once, then done


def test_lro_failure_surfaces_as_http_error(emulator):
    _lro_routes(emulator, duration=0, fail=True)
    with pytest.raises(HttpResponseError) as err:
        _poller(emulator, "t2").result(timeout=10)
    assert "ThingFailed" in str(err.value) or "It broke" in str(err.value)


def test_lro_state_follows_the_emulator_clock(emulator, frozen_clock):
    _lro_routes(emulator, duration=30)
    client = emulator.clients.resource
    resp = client.send_request(
        HttpRequest("PUT", f"/subscriptions/{SUB}/providers/Test.Lro/things/t3", params={"api-version": API}, json={})
    )
    status_url = resp.headers["Azure-AsyncOperation"]
    assert status_url.startswith(emulator.endpoint) and f"api-version={API}" in status_url
    assert client.send_request(HttpRequest("GET", status_url)).json()["status"] == "InProgress"
    frozen_clock.advance(31)
    body = client.send_request(HttpRequest("GET", status_url)).json()
    assert body["status"] == "Succeeded" and body["endTime"].endswith("Z")


def test_paging_next_link(emulator):
    def items(req: Request, sub: str) -> dict:
        return paging.page(req, [{"n": i} for i in range(5)], size=2)

    emulator.app.router.add("GET", "/subscriptions/{sub}/providers/Test.Paging/items", items)
    resp = send(emulator, "GET", f"/subscriptions/{SUB}/providers/Test.Paging/items")
    seen = []
    body = resp.json()
    while True:
        seen += [i["n"] for i in body["value"]]
        if "nextLink" not in body:
            break
        assert body["nextLink"].startswith(emulator.endpoint)
        body = emulator.clients.resource.send_request(HttpRequest("GET", body["nextLink"])).json()
    assert seen == [0, 1, 2, 3, 4]


# -- every SDK client works through both transports -------------------------------------------


def _blob_routes(emulator) -> None:
    """Just enough of a blob endpoint to drive azure-storage-blob's upload and ranged, streamed download."""
    blob = "/test-blob-svc/{account}/{container}/{name*}"  # not /blob/: the real blob service owns that

    def put(req: Request, account: str, container: str, name: str) -> Response:
        doc = req.store.put("test-blob", f"{account}/{container}/{name}", {"name": name}, data=req.body)
        return Response.empty(201, {"ETag": etag.quoted(doc.etag), "Last-Modified": clock.http_date()})

    def get(req: Request, account: str, container: str, name: str) -> Response:
        data = req.store.read_data("test-blob", f"{account}/{container}/{name}")
        if data is None:
            raise ApiError(404, "BlobNotFound", "The specified blob does not exist.")
        start, end, status = 0, len(data) - 1, 200
        rng = req.headers.get("x-ms-range") or req.headers.get("Range")
        if rng:
            first, _, last = rng.split("=", 1)[1].partition("-")
            start, end, status = int(first), min(int(last or end), end), 206
        part = data[start : end + 1]
        headers = {
            "Content-Length": str(len(part)),
            "Content-Type": "application/octet-stream",
            "ETag": '"0x8DD000000000001"',
            "Last-Modified": clock.http_date(),
            "x-ms-blob-type": "BlockBlob",
            "Accept-Ranges": "bytes",
        }
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return Response(status, (part[i : i + 1000] for i in range(0, len(part), 1000)), headers)

    emulator.app.router.add("PUT", blob, put, api_version=False)
    emulator.app.router.add("GET", blob, get, api_version=False)
    emulator.app.router.errors("/test-blob-svc/", render_storage_xml)


def test_blob_client_uploads_and_streams_downloads(emulator):
    _blob_routes(emulator)
    service = emulator.clients.blob(f"{emulator.endpoint}/test-blob-svc/acct1")
    client = service.get_blob_client("input", "dir/data.bin")
    payload = bytes(range(256)) * 40  # 10 KiB
    client.upload_blob(payload)
    assert client.download_blob().readall() == payload
    small = emulator.clients.blob(f"{emulator.endpoint}/test-blob-svc/acct1", credential=emulator.clients.credential)
    small._config.max_single_get_size = small._config.max_chunk_get_size = 4096
    chunks = list(small.get_blob_client("input", "dir/data.bin").download_blob().chunks())
    assert b"".join(chunks) == payload and len(chunks) == 3
    ranged = [e for e in emulator.requests() if e["method"] == "GET"]
    assert ranged[-1]["path"] == "/test-blob-svc/acct1/input/dir/data.bin"
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError) as err:
        service.get_blob_client("input", "missing").download_blob()
    assert err.value.error_code == "BlobNotFound"


def test_batch_data_client_reaches_the_account_path(emulator):
    def pools(req: Request, account: str) -> dict:
        return {"value": [{"id": f"pool-of-{account}", "eTag": "0x8DD000000000001"}]}

    emulator.app.router.add("GET", "/test-batch-svc/{account}/pools", pools)
    host = emulator.endpoint.split("://", 1)[1]
    batch = emulator.clients.batch_data(f"{host}/test-batch-svc/ba1")  # accountEndpoint has no scheme
    assert [p.id for p in batch.list_pools()] == ["pool-of-ba1"]
    assert "api-version" not in emulator.requests()[-1]["path"]


def test_every_management_client_reaches_the_emulator(emulator):
    clients = emulator.clients
    path = f"/subscriptions/{SUB}/providers/Test.Nothing/things?api-version={API}"
    for client in (clients.resource, clients.storage, clients.network, clients.batch_mgmt):
        resp = client.send_request(HttpRequest("GET", path))
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "InvalidResourceType"


# -- served mode: certificate, restart, sharing the data dir ------------------------------------


def test_served_certificate_is_signed_by_the_generated_ca(served_emulator):
    ca = served_emulator.data_dir / "ca.pem"
    assert served_emulator.server.ca_file == ca and ca.exists()
    ctx = ssl.create_default_context(cafile=str(ca))
    import socket

    for name in ("127.0.0.1", "localhost"):
        raw = socket.create_connection(("127.0.0.1", served_emulator.server.port))
        with ctx.wrap_socket(raw, server_hostname=name) as tls:
            assert tls.getpeercert()["subjectAltName"]
    untrusting = Clients.for_emulator_served(served_emulator.endpoint, None)
    with pytest.raises(ServiceRequestError):
        untrusting.resource.resource_groups.check_existence("x", retry_total=0)


def test_served_restart_keeps_state_and_ca(data_dir, start_emulator):
    first = start_emulator("served", data_dir)
    first.clients.resource.resource_groups.create_or_update("kept", {"location": "westus", "tags": {"a": "1"}})
    ca_before = (data_dir / "ca.pem").read_bytes()
    first.stop()

    second = start_emulator("served", data_dir)
    assert (data_dir / "ca.pem").read_bytes() == ca_before
    assert second.clients.resource.resource_groups.get("kept").tags == {"a": "1"}

    embedded = start_emulator("embedded", data_dir)  # the embedded emulator reads what was served
    assert embedded.clients.resource.resource_groups.check_existence("kept")
    embedded.clients.resource.resource_groups.create_or_update("from-embedded", {"location": "eastus"})
    assert second.clients.resource.resource_groups.get("from-embedded").location == "eastus"


def test_serve_prints_endpoint_and_ca_file(tmp_path):
    code = "from deployer.emulator.core.server import serve; import sys; serve(0, sys.argv[1])"
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "srv")], stdout=subprocess.PIPE, text=True)
    try:
        line1 = proc.stdout.readline()
        line2 = proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert line1.startswith("Emulator listening on https://127.0.0.1:")
    assert line2.strip() == f"CA file: {tmp_path / 'srv' / 'ca.pem'}"


def test_threads_share_the_clients(emulator):
    from concurrent.futures import ThreadPoolExecutor

    groups = emulator.clients.resource.resource_groups

    def work(n: int) -> None:
        for i in range(8):
            groups.create_or_update(f"t{n}-{i}", {"location": "westus", "tags": {"n": str(n)}})
            assert groups.get(f"t{n}-{i}").tags == {"n": str(n)}

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    assert len(list(groups.list())) == 32


def _create_groups(data_dir: str, prefix: str, count: int) -> None:
    clients = Clients.for_emulator_embedded(data_dir)
    for i in range(count):
        clients.resource.resource_groups.create_or_update(f"{prefix}-{i}", {"location": "westus"})


def test_two_processes_write_the_same_data_dir(data_dir):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_create_groups, args=(str(data_dir), f"p{n}", 15)) for n in range(2)]
    for p in procs:
        p.start()
    _create_groups(str(data_dir), "parent", 15)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    names = {g.name for g in Clients.for_emulator_embedded(data_dir).resource.resource_groups.list()}
    assert len(names) == 45
    puts = [json.loads(line) for line in (data_dir / "requests.jsonl").read_text().splitlines()]
    puts = [e for e in puts if e["method"] == "PUT"]
    assert len(puts) == 45 and all(e["status"] == 201 for e in puts)


# -- the pieces on their own -----------------------------------------------------------------


def test_router_matching():
    router = Router()
    seen = {}
    router.add("GET", "/subscriptions/{sub}/resourceGroups/{rg}", lambda req, **p: seen.update(p))
    router.add("GET", "/blob/{account}/{container}/{blob*}", lambda req, **p: p, api_version=False)
    router.add("PUT", "/blob/{account}/{container}", lambda req, **p: "container", query={"restype": "container"})
    router.add("PUT", "/blob/{account}/{container}", lambda req, **p: "other")

    route, params = router.match(Request("GET", "/SUBSCRIPTIONS/s1/resourcegroups/My-RG"))
    assert params == {"sub": "s1", "rg": "My-RG"}
    route, params = router.match(Request("GET", "/blob/acct/c/a/b%2Fc/d.txt"))
    assert params == {"account": "acct", "container": "c", "blob": "a/b/c/d.txt"}
    route, _ = router.match(Request("PUT", "/blob/acct/c", "restype=Container"))
    assert route.handler(None) == "container"
    route, _ = router.match(Request("PUT", "/blob/acct/c", "comp=metadata"))
    assert route.handler(None) == "other"
    with pytest.raises(ApiError) as err:
        router.match(Request("DELETE", "/subscriptions/s/resourceGroups/rg"))
    assert err.value.status == 405


def test_store_optimistic_writes_and_listing(tmp_path):
    store = Store(tmp_path)
    a = store.put("thing", "/p/a", {"v": 1}, parent="/p", expect=ABSENT)
    with pytest.raises(StaleWrite):
        store.put("thing", "/p/a", {"v": 2}, parent="/p", expect=ABSENT)
    b = store.put("thing", "/p/a", {"v": 2}, parent="/p", expect=etag.quoted(a.etag))
    assert b.etag != a.etag and b.created == a.created
    with pytest.raises(StaleWrite):
        store.delete("thing", "/p/a", expect=a.etag)
    store.put("thing", "/p/b", {"v": 3}, parent="/p", data=b"\x00bytes")
    store.put("thing", "/q/c", {"v": 4}, parent="/q")
    assert [d.key for d in store.list("thing", parent="/p")] == ["/p/a", "/p/b"]
    assert [d.key for d in store.list("thing", prefix="/q/")] == ["/q/c"]
    store.update("thing", "/p/b", lambda body: {**body, "v": 30})
    assert store.get("thing", "/p/b").body == {"v": 30}
    assert store.read_data("thing", "/p/b") == b"\x00bytes"  # kept by update
    with pytest.raises(RuntimeError), store.transaction():
        store.put("thing", "/p/z", {})
        raise RuntimeError("rolled back")
    assert store.get("thing", "/p/z") is None
    assert store.delete_prefix("/p/") == 2 and store.list("thing") == [store.get("thing", "/q/c")]


def test_etag_helpers():
    a, b = etag.new(), etag.new()
    assert a != b and a.startswith("0x8") and a == a.upper().replace("0X", "0x")
    assert etag.weak(a) == f'W/"{a}"' and etag.strip(etag.weak(a)) == a
    assert etag.if_match_ok(None, None) and etag.if_match_ok("*", a) and not etag.if_match_ok("*", None)
    assert etag.if_match_ok(f'"{b}", {etag.weak(a)}', a) and not etag.if_match_ok(etag.quoted(b), a)
    assert etag.if_none_match_ok("*", None) and not etag.if_none_match_ok("*", a)


def test_clock_and_ids():
    assert clock.iso(0) == "1970-01-01T00:00:00.0000000Z"
    assert clock.iso(1.5, digits=3) == "1970-01-01T00:00:01.500Z"
    assert abs(clock.parse_iso("2025-06-01T12:00:00.1234567Z") - 1748779200.1234567) < 1e-6
    assert clock.http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    with clock.frozen(100.0):
        clock.advance(5)
        assert clock.now() == 105.0
    assert abs(clock.now() - time.time()) < 1
    rid = ids.arm_id("s", "RG", "Microsoft.Batch", "batchAccounts", "ba", "pools", "p1")
    assert rid == "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Batch/batchAccounts/ba/pools/p1"
    assert ids.parse_arm_id(rid) == {
        "subscription": "s",
        "resourceGroup": "RG",
        "provider": "Microsoft.Batch",
        "type": "Microsoft.Batch/batchAccounts/pools",
        "name": "p1",
    }
    assert ids.key_of(rid) == rid.lower()


def test_importing_the_emulator_and_clients_imports_no_azure_sdk():
    code = (
        "import sys, deployer.azure, deployer.emulator, deployer.emulator.core.app, deployer.emulator.core.server;"
        "sys.exit(any(m.startswith('azure') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_data_dir_resolution(tmp_path, monkeypatch):
    from deployer.emulator.core import resolve_data_dir

    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "env-dir"))
    assert resolve_data_dir() == tmp_path / "env-dir" and (tmp_path / "env-dir").is_dir()
    monkeypatch.delenv("DEPLOY_LOCAL_DIR")
    monkeypatch.chdir(tmp_path)
    assert resolve_data_dir() == tmp_path / ".deploy"
    assert resolve_data_dir(Path("x")) == tmp_path / "x"


def test_clients_for_azure_pick_the_clouds_endpoints():
    from deployer.azure import StaticTokenCredential
    from deployer.azure.clients import resolve_cloud

    china = Clients.for_azure("sub", "china", credential=StaticTokenCredential())
    assert china.resource._config.base_url == "https://management.chinacloudapi.cn/"
    assert china.resource._config.credential_scopes == ["https://management.chinacloudapi.cn/.default"]
    batch = china.batch_data("acct.chinanorth.batch.chinacloudapi.cn")
    assert batch._config.endpoint == "https://acct.chinanorth.batch.chinacloudapi.cn"
    assert batch._config.credential_scopes == ["https://batch.chinacloudapi.cn/.default"]
    public = Clients.for_azure("sub")
    assert type(public.credential).__name__ == "SignInCredential"  # sign-in failures: one clear line
    assert type(public.credential.inner).__name__ == "DefaultAzureCredential"
    assert public.storage._config.base_url == "https://management.azure.com/"
    assert resolve_cloud("AzureUSGovernment").authority == "login.microsoftonline.us"
    with pytest.raises(ValueError):
        resolve_cloud("mars")
