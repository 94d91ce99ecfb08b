"""Key Vault secrets through azure-keyvault-secrets' SecretClient, embedded and served."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets._shared import HttpChallengeCache

from deployer.emulator.core import Request, clock
from deployer.emulator.keyvault import errors

VAULT = "kv-test"


@pytest.fixture
def secrets(emulator) -> SecretClient:  # type: ignore[no-untyped-def]
    return emulator.clients.secrets(VAULT)


def test_vault_url_is_path_style(emulator, secrets: SecretClient) -> None:  # type: ignore[no-untyped-def]
    assert secrets.vault_url == f"{emulator.endpoint}/keyvault/{VAULT}"


def test_set_then_get(emulator, secrets: SecretClient) -> None:  # type: ignore[no-untyped-def]
    HttpChallengeCache.clear()  # process-wide, per host: make this client do the handshake
    emulator.clear_requests()
    created = secrets.set_secret("smb", "first-value", content_type="text/plain", tags={"team": "hpc"})
    assert created.name == "smb" and created.value == "first-value"
    props = created.properties
    assert props.enabled is True and props.content_type == "text/plain" and props.tags == {"team": "hpc"}
    assert isinstance(props.created_on, datetime) and props.created_on.tzinfo is not None
    assert props.updated_on == props.created_on
    assert props.recovery_level == "Recoverable+Purgeable"
    version = props.version
    assert version and len(version) == 32
    # the id parses (two or three path segments) and names the secret and its version
    assert created.id.endswith(f"/secrets/smb/{version}")
    assert props.vault_url.startswith("https://kv-test.")
    got = secrets.get_secret("smb")
    assert got.value == "first-value" and got.properties.version == version and got.id == created.id
    # the challenge handshake: the first request (no token, no body) got 401, then the real one
    log = [(r["method"], r["path"], r["status"]) for r in emulator.requests()]
    assert log[0] == ("PUT", f"/keyvault/{VAULT}/secrets/smb", 401)
    assert log[1] == ("PUT", f"/keyvault/{VAULT}/secrets/smb", 200)
    assert log[2:] == [("GET", f"/keyvault/{VAULT}/secrets/smb", 200)]


def test_versions(emulator, secrets: SecretClient, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    first = secrets.set_secret("rotating", "v1")
    frozen_clock.advance(60)
    second = secrets.set_secret("rotating", "v2")
    assert first.properties.version != second.properties.version
    assert second.properties.created_on is not None and first.properties.created_on is not None
    assert (second.properties.created_on - first.properties.created_on).total_seconds() == 60
    assert secrets.get_secret("rotating").value == "v2"
    assert secrets.get_secret("rotating").properties.version == second.properties.version
    old = secrets.get_secret("rotating", first.properties.version)
    assert old.value == "v1" and old.properties.version == first.properties.version
    # names are case-insensitive, as in Key Vault
    assert secrets.get_secret("ROTATING").value == "v2"


def test_vaults_are_separate(emulator) -> None:  # type: ignore[no-untyped-def]
    emulator.clients.secrets("kv-one").set_secret("shared", "one")
    emulator.clients.secrets("kv-two").set_secret("shared", "two")
    assert emulator.clients.secrets("kv-one").get_secret("shared").value == "one"
    assert emulator.clients.secrets("kv-two").get_secret("shared").value == "two"


def test_missing_secret_is_404_secret_not_found(emulator, secrets: SecretClient) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ResourceNotFoundError) as caught:
        secrets.get_secret("nope")
    assert caught.value.status_code == 404
    assert caught.value.error is not None and caught.value.error.code == "SecretNotFound"
    assert "(name/id) nope was not found" in caught.value.error.message
    secrets.set_secret("there", "x")
    with pytest.raises(ResourceNotFoundError) as caught:
        secrets.get_secret("there", "0" * 32)
    assert caught.value.error is not None and caught.value.error.code == "SecretNotFound"
    assert f"there/{'0' * 32}" in caught.value.error.message


def test_disabled_and_invalid(emulator, secrets: SecretClient) -> None:  # type: ignore[no-untyped-def]
    secrets.set_secret("off", "x", enabled=False)
    with pytest.raises(HttpResponseError) as caught:
        secrets.get_secret("off")
    assert caught.value.status_code == 403
    with pytest.raises(HttpResponseError) as caught:
        secrets.set_secret("bad_name", "x")
    assert caught.value.status_code == 400
    assert caught.value.error is not None and caught.value.error.code == "BadParameter"


def test_unauthenticated_request_gets_the_challenge(emulator) -> None:  # type: ignore[no-untyped-def]
    # straight to the app (no SDK): no token -> 401 with Key Vault's challenge and error shape
    req = Request("GET", f"/keyvault/{VAULT}/secrets/smb", "api-version=2025-07-01", {"Host": "localhost"}, b"")
    resp = emulator.app.dispatch(req)
    assert resp.status == 401
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'authorization="https://login.microsoftonline.com/{errors.EMULATOR_TENANT}"' in challenge
    assert 'resource="https://vault.azure.net"' in challenge
    assert json.loads(resp.read())["error"]["code"] == "Unauthorized"
    # any bearer token is accepted
    authed = Request("GET", f"/keyvault/{VAULT}/secrets/smb", "api-version=2025-07-01",
                     {"Host": "localhost", "Authorization": "Bearer anything"}, b"")
    resp = emulator.app.dispatch(authed)
    assert resp.status == 404 and json.loads(resp.read())["error"]["code"] == "SecretNotFound"


def test_timestamps_are_unix_seconds(emulator, secrets: SecretClient, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    created = secrets.set_secret("stamped", "x")
    assert created.properties.created_on == datetime.fromtimestamp(int(clock.now()), UTC)

