"""Microsoft.Storage HTTP surface, as azure-mgmt-storage's StorageManagementClient sends it.

storageAccounts: PUT (202 + Location when new, as Azure: `begin_create` polls it), GET, PATCH,
DELETE, list (group, subscription), listKeys, regenerateKey, checkNameAvailability;
blobServices/default/containers and fileServices/default/shares: PUT, GET, PATCH, DELETE, list
(and container leases). The blob data plane is `deployer.emulator.blob`.
"""

from __future__ import annotations

from typing import Any

from ..core import Request, Response, Router, lro, paging
from . import errors, leases, models

PROVIDER = "/subscriptions/{sub}/providers/Microsoft.Storage"
ACCOUNTS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts"
ACCOUNT = ACCOUNTS + "/{account}"
CONTAINERS = ACCOUNT + "/blobServices/default/containers"
CONTAINER = CONTAINERS + "/{container}"
SHARES = ACCOUNT + "/fileServices/default/shares"
SHARE = SHARES + "/{share}"


def register(router: Router) -> None:
    router.add_all(
        {
            PROVIDER + "/checkNameAvailability": {"POST": check_name},
            PROVIDER + "/storageAccounts": {"GET": list_accounts},
            ACCOUNTS: {"GET": list_accounts},
            ACCOUNT: {"PUT": put_account, "GET": get_account, "PATCH": patch_account, "DELETE": delete_account},
            ACCOUNT + "/listKeys": {"POST": list_keys},
            ACCOUNT + "/regenerateKey": {"POST": regenerate_key},
            CONTAINERS: {"GET": list_containers},
            CONTAINER: {
                "PUT": put_container,
                "PATCH": patch_container,
                "GET": get_container,
                "DELETE": delete_container,
            },
            CONTAINER + "/lease": {"POST": lease_container},
            SHARES: {"GET": list_shares},
            SHARE: {"PUT": put_share, "PATCH": patch_share, "GET": get_share, "DELETE": delete_share},
        }
    )


def _body(req: Request) -> dict[str, Any]:
    body = req.json()
    return body if isinstance(body, dict) else {}


def _properties(req: Request) -> dict[str, Any]:
    props = _body(req).get("properties")
    return props if isinstance(props, dict) else {}


# -- accounts -----------------------------------------------------------------------------------


def check_name(req: Request, sub: str) -> dict[str, Any]:
    return models.check_name(req.store, str(_body(req).get("name") or ""))


def put_account(req: Request, sub: str, rg: str, account: str) -> Response:
    doc, created = models.create_or_update_account(req.store, sub, rg, account, req.json())
    if not created:
        return Response.json(models.render_account(doc, req.base_url))
    # A new account is provisioned asynchronously: 202 + Location, polled until it answers 200.
    return lro.accepted(
        req,
        provider="Microsoft.Storage",
        location=doc.body["location"],
        result_path=doc.body["id"],
        async_header=False,
    )


def get_account(req: Request, sub: str, rg: str, account: str) -> dict[str, Any]:
    return models.render_account(models.require_account(req.store, sub, rg, account), req.base_url)


def patch_account(req: Request, sub: str, rg: str, account: str) -> dict[str, Any]:
    return models.render_account(models.update_account(req.store, sub, rg, account, req.json()), req.base_url)


def delete_account(req: Request, sub: str, rg: str, account: str) -> Response:
    return Response.empty(200 if models.delete_account(req.store, sub, rg, account) else 204)


def list_accounts(req: Request, sub: str, rg: str | None = None) -> dict[str, Any]:
    docs = models.list_accounts(req.store, sub, rg)
    return paging.page(req, [models.render_account(d, req.base_url) for d in docs])


def list_keys(req: Request, sub: str, rg: str, account: str) -> dict[str, Any]:
    return models.render_keys(models.require_account(req.store, sub, rg, account))


def regenerate_key(req: Request, sub: str, rg: str, account: str) -> dict[str, Any]:
    name = _body(req).get("keyName")
    doc = models.regenerate_key(req.store, sub, rg, account, name.lower() if isinstance(name, str) else name)
    return models.render_keys(doc)


# -- blob containers ----------------------------------------------------------------------------


def _metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.invalid_values("metadata")
    return {str(k).lower(): str(v) for k, v in value.items()}


def _container(req: Request, sub: str, rg: str, account: str, container: str) -> tuple[Any, Any]:
    acct = models.require_parent(req.store, sub, rg, account)
    doc = models.get_container(req.store, acct, container)
    if doc is None:
        raise errors.container_not_found()
    return acct, doc


def _render_container(req: Request, acct: Any, doc: Any) -> dict[str, Any]:
    return models.render_container(acct, doc, leases.view(req.store, doc.key))


def put_container(req: Request, sub: str, rg: str, account: str, container: str) -> Response:
    problem = models.child_name_problem(container)
    if problem:
        raise errors.container_name_invalid(problem)
    acct = models.require_parent(req.store, sub, rg, account)
    props = _properties(req)
    access = models.arm_public_access(props.get("publicAccess"))
    metadata = _metadata(props.get("metadata"))
    with req.store.transaction():
        doc, created = models.create_container(req.store, acct, container, metadata=metadata, public_access=access)
        if not created:  # a PUT on an existing container restates its writable properties
            doc = models.update_container(
                req.store, doc, lambda b: {**b, "metadata": metadata or {}, "publicAccess": access}
            )
    return Response.json(_render_container(req, acct, doc), status=201 if created else 200)


def patch_container(req: Request, sub: str, rg: str, account: str, container: str) -> dict[str, Any]:
    acct, doc = _container(req, sub, rg, account, container)
    props = _properties(req)
    change: dict[str, Any] = {}
    if "metadata" in props:
        change["metadata"] = _metadata(props["metadata"]) or {}
    if "publicAccess" in props:
        change["publicAccess"] = models.arm_public_access(props["publicAccess"])
    doc = models.update_container(req.store, doc, lambda b: {**b, **change})
    return _render_container(req, acct, doc)


def get_container(req: Request, sub: str, rg: str, account: str, container: str) -> dict[str, Any]:
    acct, doc = _container(req, sub, rg, account, container)
    return _render_container(req, acct, doc)


def delete_container(req: Request, sub: str, rg: str, account: str, container: str) -> Response:
    acct = models.require_parent(req.store, sub, rg, account)
    with req.store.transaction():
        doc = models.get_container(req.store, acct, container)
        if doc is None:
            return Response.empty(204)
        leases.check_write(req.store, doc.key, None, "container")  # a leased container stays
        models.delete_container(req.store, acct, container)
    return Response.empty(200)


def list_containers(req: Request, sub: str, rg: str, account: str) -> dict[str, Any]:
    acct = models.require_parent(req.store, sub, rg, account)
    items = [_render_container(req, acct, d) for d in models.list_containers(req.store, acct)]
    return paging.page(req, items, size_param="$maxpagesize")


def lease_container(req: Request, sub: str, rg: str, account: str, container: str) -> dict[str, Any]:
    """The management API's container lease: the same lease the blob service sees."""
    _, doc = _container(req, sub, rg, account, container)
    body = _body(req)
    action = str(body.get("action") or "").lower()
    key, lease_id = doc.key, body.get("leaseId")
    seconds = None
    if action == "acquire":
        lease = leases.acquire(
            req.store,
            key,
            leases.parse_duration(body.get("leaseDuration", -1), "leaseDuration"),
            body.get("proposedLeaseId"),
            "container",
        )
    elif action == "renew":
        lease = leases.renew(req.store, key, lease_id, "container")
    elif action == "change":
        lease = leases.change(req.store, key, lease_id, body.get("proposedLeaseId"), "container")
    elif action == "release":
        lease = leases.release(req.store, key, lease_id, "container")
    elif action == "break":
        period = body.get("breakPeriod")
        if period is not None and not isinstance(period, int):
            raise errors.invalid_values("breakPeriod")
        lease, seconds = leases.break_(req.store, key, period, "container")
    else:
        raise errors.invalid_values("action")
    out: dict[str, Any] = {}
    if lease.lease_id and action != "release":
        out["leaseId"] = lease.lease_id
    if seconds is not None:
        out["leaseTimeSeconds"] = str(seconds)
    return out


# -- file shares --------------------------------------------------------------------------------


def _share_account(req: Request, sub: str, rg: str, account: str) -> Any:
    return models.require_parent(req.store, sub, rg, account)


def put_share(req: Request, sub: str, rg: str, account: str, share: str) -> Response:
    problem = models.child_name_problem(share)
    if problem:
        raise errors.share_name_invalid(problem)
    acct = _share_account(req, sub, rg, account)
    props = _properties(req)
    doc, created = models.put_share(req.store, acct, share, props)
    return Response.json(models.render_share(acct, doc, only=props), status=201 if created else 200)


def patch_share(req: Request, sub: str, rg: str, account: str, share: str) -> dict[str, Any]:
    acct = _share_account(req, sub, rg, account)
    props = _properties(req)
    doc, _ = models.put_share(req.store, acct, share, props, patch=True)
    return models.render_share(acct, doc, only=props)


def get_share(req: Request, sub: str, rg: str, account: str, share: str) -> dict[str, Any]:
    acct = _share_account(req, sub, rg, account)
    doc = models.get_share(req.store, acct, share)
    if doc is None:
        raise errors.share_not_found()
    return models.render_share(acct, doc)


def delete_share(req: Request, sub: str, rg: str, account: str, share: str) -> Response:
    acct = _share_account(req, sub, rg, account)
    return Response.empty(200 if models.delete_share(req.store, acct, share) else 204)


def list_shares(req: Request, sub: str, rg: str, account: str) -> dict[str, Any]:
    acct = _share_account(req, sub, rg, account)
    items = [models.render_share(acct, d) for d in models.list_shares(req.store, acct)]
    return paging.page(req, items, size_param="$maxpagesize")
