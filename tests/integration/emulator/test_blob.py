"""The blob service through azure-storage-blob's BlobServiceClient, embedded and served."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.storage.blob import (
    AccountSasPermissions,
    BlobBlock,
    BlobClient,
    BlobSasPermissions,
    BlobServiceClient,
    ContainerClient,
    ContainerSasPermissions,
    ContentSettings,
    ResourceTypes,
    generate_account_sas,
    generate_blob_sas,
    generate_container_sas,
)

from deployer.emulator.blob import auth
from deployer.emulator.core import clock
from deployer.emulator.storage import models as storage_models

ACCOUNT = "stblobs"


@dataclass
class Blobs:
    emulator: Any
    url: str
    key: str

    @property
    def service(self) -> BlobServiceClient:
        return self.emulator.clients.blob(self.url)

    def client(self, credential: Any = None, **options: Any) -> BlobServiceClient:
        """Another BlobServiceClient on the account (same transport), e.g. with a key or a SAS."""
        opts = {**self.emulator.clients._blob_options, **options}
        return BlobServiceClient(self.url, credential=credential, **opts)


@pytest.fixture
def blobs(emulator) -> Blobs:
    emulator.clients.resource.resource_groups.create_or_update("rg", {"location": "westeurope"})
    params = {"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
    acct = emulator.clients.storage.storage_accounts.begin_create("rg", ACCOUNT, params).result()
    key = emulator.clients.storage.storage_accounts.list_keys("rg", ACCOUNT).keys_property[0].value
    return Blobs(emulator, acct.primary_endpoints.blob, key)


def headers_of(call, *args, **kwargs) -> dict[str, str]:
    seen: dict[str, str] = {}
    call(*args, raw_response_hook=lambda r: seen.update(r.http_response.headers), **kwargs)
    return seen


def test_upload_download_and_properties(blobs):
    container = blobs.service.create_container("data")
    blob = container.get_blob_client("dir/hello.txt")
    text = ContentSettings(content_type="text/plain")
    result = blob.upload_blob(b"hello world", metadata={"owner": "me"}, content_settings=text)
    assert result["etag"].startswith('"0x') and result["content_md5"]
    assert blob.download_blob().readall() == b"hello world"
    assert blob.download_blob(offset=6, length=5).readall() == b"world"

    props = blob.get_blob_properties()
    assert (props.size, props.blob_type, props.etag) == (11, "BlockBlob", result["etag"])
    assert props.content_settings.content_type == "text/plain"
    assert props.metadata == {"owner": "me"} and props.creation_time and props.last_modified
    assert (props.lease.state, props.lease.status) == ("available", "unlocked")

    headers = headers_of(blob.get_blob_properties)
    assert headers["x-ms-version"] and headers["x-ms-request-id"]
    assert headers["Last-Modified"].endswith(" GMT") and headers["ETag"] == result["etag"]

    with pytest.raises(ResourceExistsError) as err:  # overwrite=False sends If-None-Match: *
        blob.upload_blob(b"again")
    assert err.value.error_code == "BlobAlreadyExists"
    blob.upload_blob(b"again", overwrite=True)
    assert blob.download_blob().readall() == b"again"
    assert blob.get_blob_properties().etag != result["etag"]

    empty = container.get_blob_client("empty")
    empty.upload_blob(b"")
    assert empty.download_blob().readall() == b""  # a ranged GET of 0 bytes is 416; the SDK retries


def test_block_list_upload_in_many_blocks(blobs):
    service = blobs.client(blobs.emulator.clients.credential, max_single_put_size=1024, max_block_size=256)
    container = service.create_container("big")
    data = bytes(range(256)) * 12 + b"tail"
    blob = container.get_blob_client("large.bin")
    blobs.emulator.clear_requests()
    blob.upload_blob(data)
    puts = [e for e in blobs.emulator.requests() if e["method"] == "PUT"]
    assert len(puts) == 14  # 13 Put Block + 1 Put Block List
    assert blob.download_blob().readall() == data
    committed, uncommitted = blob.get_block_list("all")
    assert len(committed) == 13 and uncommitted == []
    assert blob.get_blob_properties().size == len(data)

    # Hand-made lists: reuse a committed block, add a new one, reorder.
    first = committed[0].id
    blob.stage_block("bmV3", b"NEW")  # "new"
    blob.commit_block_list([BlobBlock("bmV3"), BlobBlock(first)])
    assert blob.download_blob().readall() == b"NEW" + data[:256]
    with pytest.raises(HttpResponseError) as err:
        blob.commit_block_list([BlobBlock("bWlzc2luZw==")])
    assert err.value.status_code == 400 and err.value.error_code == "InvalidBlockList"


def test_list_with_prefix_delimiter_and_pages(blobs):
    container = blobs.service.create_container("tree")
    for name in ["a/1.txt", "a/2.txt", "a/sub/3.txt", "b/1.txt", "c.txt"]:
        container.upload_blob(name, name.encode(), metadata={"n": name[0]})
    assert [b.name for b in container.list_blobs(name_starts_with="a/")] == ["a/1.txt", "a/2.txt", "a/sub/3.txt"]
    listed = list(container.list_blobs(include=["metadata"]))
    assert [b.size for b in listed] == [7, 7, 11, 7, 5] and listed[0].metadata == {"n": "a"}
    assert listed[0].etag and listed[0].last_modified and listed[0].blob_type

    pages = [[b.name for b in page] for page in container.list_blobs(results_per_page=2).by_page()]
    assert pages == [["a/1.txt", "a/2.txt"], ["a/sub/3.txt", "b/1.txt"], ["c.txt"]]
    assert [b.name for b in container.walk_blobs(delimiter="/")] == ["a/", "b/", "c.txt"]
    walked = [b.name for b in container.walk_blobs(name_starts_with="a/", delimiter="/")]
    assert walked == ["a/sub/", "a/1.txt", "a/2.txt"]  # the SDK yields a page's prefixes first

    names = [c.name for c in blobs.service.list_containers()]
    assert names == ["tree"]


def test_metadata_headers_and_delete(blobs):
    container = blobs.service.create_container("props")
    blob = container.upload_blob("x", b"abc")
    etag0 = blob.get_blob_properties().etag
    blob.set_blob_metadata({"color": "blue"})
    props = blob.get_blob_properties()
    assert props.metadata == {"color": "blue"} and props.etag != etag0
    blob.set_http_headers(ContentSettings(content_type="application/json", cache_control="no-cache"))
    props = blob.get_blob_properties()
    assert (props.content_settings.content_type, props.content_settings.cache_control) == (
        "application/json",
        "no-cache",
    )

    blob.delete_blob()
    with pytest.raises(ResourceNotFoundError) as err:
        blob.get_blob_properties()
    assert err.value.error_code == "BlobNotFound"
    with pytest.raises(ResourceNotFoundError):
        blob.delete_blob()
    with pytest.raises(ResourceNotFoundError) as err:
        blobs.service.get_container_client("nope").get_container_properties()
    assert err.value.error_code == "ContainerNotFound"


def test_blob_leases(blobs, frozen_clock):
    container = blobs.service.create_container("leases")
    blob = container.upload_blob("held", b"v1")
    lease = blob.acquire_lease(lease_duration=-1)
    props = blob.get_blob_properties()
    assert (props.lease.state, props.lease.status, props.lease.duration) == ("leased", "locked", "infinite")

    with pytest.raises(HttpResponseError) as err:
        blob.upload_blob(b"v2", overwrite=True)
    assert err.value.status_code == 412 and err.value.error_code == "LeaseIdMissing"
    with pytest.raises(HttpResponseError) as err:
        blob.upload_blob(b"v2", overwrite=True, lease="00000000-0000-0000-0000-000000000001")
    assert err.value.status_code == 412 and err.value.error_code == "LeaseIdMismatchWithBlobOperation"
    with pytest.raises(HttpResponseError) as err:
        blob.delete_blob()
    assert err.value.error_code == "LeaseIdMissing"
    blob.upload_blob(b"v2", overwrite=True, lease=lease)
    with pytest.raises(ResourceExistsError) as err:
        blob.acquire_lease(lease_duration=15)
    assert err.value.status_code == 409 and err.value.error_code == "LeaseAlreadyPresent"

    lease.renew()
    old_id = lease.id
    lease.change("11111111-2222-3333-4444-555555555555")
    assert lease.id != old_id
    lease.release()
    assert blob.get_blob_properties().lease.state == "available"

    fixed = blob.acquire_lease(lease_duration=15)
    assert blob.get_blob_properties().lease.duration == "fixed"
    frozen_clock.advance(16)
    assert blob.get_blob_properties().lease.state == "expired"
    blob.upload_blob(b"v3", overwrite=True)  # an expired lease no longer guards writes
    with pytest.raises(HttpResponseError) as err:
        blob.upload_blob(b"v4", overwrite=True, lease="00000000-0000-0000-0000-00000000000f")
    assert err.value.status_code == 412 and err.value.error_code == "LeaseNotPresentWithBlobOperation"
    fixed.renew()  # an expired lease nobody took since can be renewed
    assert blob.get_blob_properties().lease.state == "leased"
    fixed.release()

    held = blob.acquire_lease(lease_duration=-1)
    assert held.break_lease(lease_break_period=10) == 10
    assert blob.get_blob_properties().lease.state == "breaking"
    with pytest.raises(ResourceExistsError) as err:
        blob.acquire_lease()
    assert err.value.error_code == "LeaseIsBreakingAndCannotBeAcquired"
    frozen_clock.advance(10)
    assert blob.get_blob_properties().lease.state == "broken"
    blob.upload_blob(b"v5", overwrite=True)
    blob.acquire_lease().release()


def test_container_create_delete_and_lease(blobs):
    service = blobs.service
    container = service.create_container("box", metadata={"team": "x"})
    with pytest.raises(ResourceExistsError) as err:
        service.create_container("box")
    assert err.value.error_code == "ContainerAlreadyExists"
    props = container.get_container_properties()
    assert props.metadata == {"team": "x"} and props.etag.startswith('"0x')
    with pytest.raises(HttpResponseError) as err:
        service.create_container("Bad_Name")
    assert err.value.status_code == 400 and err.value.error_code == "InvalidResourceName"
    with pytest.raises(HttpResponseError) as err:
        service.create_container("public", public_access="blob")
    assert err.value.error_code == "PublicAccessNotPermitted"

    lease = container.acquire_lease(lease_duration=-1)
    assert container.get_container_properties().lease.state == "leased"
    with pytest.raises(HttpResponseError) as err:
        container.delete_container()
    assert err.value.status_code == 412 and err.value.error_code == "LeaseIdMissing"
    container.set_container_metadata({"team": "y"})  # container leases guard deletion only
    container.delete_container(lease=lease)
    assert [c.name for c in service.list_containers()] == []


def test_shared_key_is_verified(blobs):
    blobs.service.create_container("keyed").upload_blob("f", b"data")
    for credential in (blobs.key, {"account_name": ACCOUNT, "account_key": blobs.key}):
        blob = blobs.client(credential).get_blob_client("keyed", "f")
        assert blob.download_blob().readall() == b"data"
        blob.upload_blob(b"data", overwrite=True, metadata={"by": "key"})
    wrong = base64.b64encode(bytes(64)).decode()
    with pytest.raises(ClientAuthenticationError) as err:
        blobs.client(wrong).get_container_client("keyed").get_container_properties()
    assert err.value.status_code == 403 and err.value.error_code == "AuthenticationFailed"
    with pytest.raises(ClientAuthenticationError) as err:
        blobs.client(None).get_container_client("keyed").get_container_properties()
    assert err.value.status_code == 401 and err.value.error_code == "NoAuthenticationInformation"


def test_sas_tokens(blobs, frozen_clock):
    container = blobs.service.create_container("shared")
    container.upload_blob("report.csv", b"a,b\n")
    now = datetime.fromtimestamp(frozen_clock.now(), UTC)
    expiry = now + timedelta(minutes=5)

    can_read = BlobSasPermissions(read=True)
    read = generate_blob_sas(ACCOUNT, "shared", "report.csv", account_key=blobs.key, permission=can_read, expiry=expiry)
    blob = blobs.client(read).get_blob_client("shared", "report.csv")
    assert blob.download_blob().readall() == b"a,b\n"
    with pytest.raises(HttpResponseError) as err:
        blob.upload_blob(b"x", overwrite=True)
    assert err.value.status_code == 403 and err.value.error_code == "AuthorizationPermissionMismatch"
    with pytest.raises(ClientAuthenticationError):  # a blob SAS signs one blob only
        blobs.client(read).get_blob_client("shared", "other.csv").get_blob_properties()

    can_list = ContainerSasPermissions(list=True, write=True)
    listing = generate_container_sas(ACCOUNT, "shared", account_key=blobs.key, permission=can_list, expiry=expiry)
    shared = blobs.client(listing).get_container_client("shared")
    shared.upload_blob("new.csv", b"1")
    assert [b.name for b in shared.list_blobs()] == ["new.csv", "report.csv"]

    everything = ResourceTypes(service=True, container=True, object=True)
    account_sas = generate_account_sas(
        ACCOUNT, blobs.key, everything, AccountSasPermissions(read=True, list=True), expiry
    )
    assert [c.name for c in blobs.client(account_sas).list_containers()] == ["shared"]

    tampered = read.replace("sp=r", "sp=rw")
    with pytest.raises(ClientAuthenticationError) as err:
        blobs.client(tampered).get_blob_client("shared", "report.csv").upload_blob(b"x", overwrite=True)
    assert err.value.error_code == "AuthenticationFailed"

    frozen_clock.advance(301)
    with pytest.raises(ClientAuthenticationError) as err:
        blob.download_blob()
    assert err.value.status_code == 403 and err.value.error_code == "AuthenticationFailed"


def test_clients_made_from_urls(blobs):
    """SAS URLs (what Batch hands out for application packages) and key-signed URL clients."""
    blobs.service.create_container("apps")
    expiry = datetime.now(UTC) + timedelta(hours=1)
    can_write = BlobSasPermissions(read=True, create=True, write=True)
    sas = generate_blob_sas(
        ACCOUNT, "apps", "ffmpeg/6.1.zip", account_key=blobs.key, permission=can_write, expiry=expiry
    )
    options = blobs.emulator.clients._blob_options
    upload = BlobClient.from_blob_url(f"{blobs.url}apps/ffmpeg/6.1.zip?{sas}", **options)
    upload.upload_blob(b"PK...")
    assert upload.download_blob().readall() == b"PK..."
    keyed = ContainerClient.from_container_url(f"{blobs.url}apps", credential=blobs.key, **options)
    assert [b.name for b in keyed.list_blobs()] == ["ffmpeg/6.1.zip"]

    # The emulator's own SAS generator (for services such as Batch) makes URLs the SDK can use.
    acct = storage_models.find_account(blobs.emulator.app.store, ACCOUNT)
    query = auth.service_sas(acct, "apps", "ffmpeg/7.0.zip", permission="rcw", expiry=clock.now() + 60)
    made = BlobClient.from_blob_url(f"{blobs.url}apps/ffmpeg/7.0.zip?{query}", **options)
    made.upload_blob(b"PK7")
    assert made.download_blob().readall() == b"PK7"
    listing = auth.service_sas(acct, "apps", permission="l", expiry=clock.now() + 60)
    assert len(list(blobs.client(listing).get_container_client("apps").list_blobs())) == 2


def test_management_and_data_plane_share_containers(blobs):
    emulator = blobs.emulator
    containers = emulator.clients.storage.blob_containers
    containers.create("rg", ACCOUNT, "from-arm", {"properties": {"metadata": {"origin": "arm"}}})
    service = blobs.service
    assert [c.name for c in service.list_containers(include_metadata=True)] == ["from-arm"]
    client = service.get_container_client("from-arm")
    assert client.get_container_properties().metadata == {"origin": "arm"}
    client.upload_blob("f.txt", b"x")

    service.create_container("from-blob")
    assert sorted(c.name for c in containers.list("rg", ACCOUNT)) == ["from-arm", "from-blob"]
    lease = service.get_container_client("from-blob").acquire_lease()
    assert containers.get("rg", ACCOUNT, "from-blob").lease_state == "Leased"
    lease.release()
    containers.delete("rg", ACCOUNT, "from-arm")
    with pytest.raises(ResourceNotFoundError):
        client.get_blob_client("f.txt").get_blob_properties()
    store = emulator.app.store
    acct = storage_models.find_account(store, ACCOUNT)
    assert store.list("blob", prefix=acct.key + "/") == []


def test_unknown_account_is_a_storage_error(blobs):
    url = blobs.url.replace(ACCOUNT, "stnowhere")
    with pytest.raises(ResourceNotFoundError) as err:
        blobs.emulator.clients.blob(url).get_container_client("c").get_container_properties()
    assert err.value.error_code == "ResourceNotFound"
