"""Microsoft.Batch HTTP surface: what azure-mgmt-batch 19's BatchManagementClient sends.

batch_account  create (202 + Location, long-running), get, update (PATCH), delete (202 + Location),
               list, list_by_resource_group, get_keys, regenerate_key, synchronize_auto_storage_keys
pool           create (PUT, synchronous, If-Match / If-None-Match), get, update (PATCH), delete
               (202 + Location, long-running), list_by_batch_account (maxresults, $select,
               $filter, nextLink), stop_resize, disable_auto_scale
application    create, get, update, delete, list (maxresults)
application_package  create (storageUrl with a SAS into auto-storage), get, delete, list, activate
location       get_quotas, check_name_availability
"""

from __future__ import annotations

from typing import Any

from ..core import Request, Response, Router, clock, etag, lro, paging
from . import errors, links, models
from .odata import compile_filter

ACCOUNTS_SUB = "/subscriptions/{sub}/providers/Microsoft.Batch/batchAccounts"
ACCOUNTS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Batch/batchAccounts"
ACCOUNT = ACCOUNTS + "/{account}"
POOLS = ACCOUNT + "/pools"
POOL = POOLS + "/{pool}"
APPS = ACCOUNT + "/applications"
APP = APPS + "/{app}"
VERSIONS = APP + "/versions"
VERSION = VERSIONS + "/{version}"
LOCATION = "/subscriptions/{sub}/providers/Microsoft.Batch/locations/{location}"


def register(router: Router) -> None:
    router.add_all(
        {
            ACCOUNT: {"PUT": put_account, "GET": get_account, "PATCH": patch_account, "DELETE": delete_account},
            ACCOUNTS: {"GET": list_accounts_in_group},
            ACCOUNTS_SUB: {"GET": list_accounts},
            ACCOUNT + "/listKeys": {"POST": list_keys},
            ACCOUNT + "/regenerateKeys": {"POST": regenerate_keys},
            ACCOUNT + "/syncAutoStorageKeys": {"POST": sync_auto_storage_keys},
            POOL: {"PUT": put_pool, "GET": get_pool, "PATCH": patch_pool, "DELETE": delete_pool},
            POOLS: {"GET": list_pools},
            POOL + "/stopResize": {"POST": stop_resize},
            POOL + "/disableAutoScale": {"POST": disable_autoscale},
            APP: {
                "PUT": put_application,
                "GET": get_application,
                "PATCH": patch_application,
                "DELETE": delete_application,
            },
            APPS: {"GET": list_applications},
            VERSION: {"PUT": put_package, "GET": get_package, "DELETE": delete_package},
            VERSIONS: {"GET": list_packages},
            VERSION + "/activate": {"POST": activate_package},
            LOCATION + "/quotas": {"GET": location_quotas},
            LOCATION + "/checkNameAvailability": {"POST": check_name_availability},
        }
    )


def _maxresults(req: Request) -> int | None:
    raw = req.query.get("maxresults")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise errors.invalid_parameter(f"The value '{raw}' of maxresults is invalid.", "maxresults")
    return value


def _page(req: Request, items: list[Any]) -> Response:
    _maxresults(req)
    return Response.json(paging.page(req, items, size=1000, size_param="maxresults"))


# -- accounts ----------------------------------------------------------------------------------


def _storage_check(req: Request) -> Any:
    return lambda storage_id: links.storage_exists(req.store, storage_id)


def put_account(req: Request, sub: str, rg: str, account: str) -> Response:
    doc, _created = models.create_account(req.store, sub, rg, account, req.json(), _storage_check(req))
    # Azure answers BatchAccount_Create asynchronously: 202 + Location, then the account.
    return lro.accepted(
        req, provider=models.PROVIDER, location=doc.body["location"], result_path=doc.body["id"], async_header=False
    )


def get_account(req: Request, sub: str, rg: str, account: str) -> Response:
    return Response.json(models.render_account(models.require_account(req.store, sub, rg, account), req.host))


def patch_account(req: Request, sub: str, rg: str, account: str) -> Response:
    doc = models.update_account(
        req.store, sub, rg, account, req.json(), lambda sid: links.storage_exists(req.store, sid)
    )
    return Response.json(models.render_account(doc, req.host))


def delete_account(req: Request, sub: str, rg: str, account: str) -> Response:
    doc = models.delete_account(req.store, sub, rg, account)
    return lro.accepted(req, provider=models.PROVIDER, location=doc.body["location"], async_header=False)


def list_accounts_in_group(req: Request, sub: str, rg: str) -> Response:
    return _page(req, [models.render_account(d, req.host) for d in models.list_accounts(req.store, sub, rg)])


def list_accounts(req: Request, sub: str) -> Response:
    return _page(req, [models.render_account(d, req.host) for d in models.list_accounts(req.store, sub)])


def list_keys(req: Request, sub: str, rg: str, account: str) -> Response:
    doc = models.require_account(req.store, sub, rg, account)
    if not models.shared_key_allowed(doc):
        raise errors.shared_key_disabled(doc.body["name"])
    return Response.json(models.render_keys(doc))


def regenerate_keys(req: Request, sub: str, rg: str, account: str) -> Response:
    body = req.json()
    doc = models.regenerate_key(req.store, sub, rg, account, body.get("keyName") if isinstance(body, dict) else None)
    return Response.json(models.render_keys(doc))


def sync_auto_storage_keys(req: Request, sub: str, rg: str, account: str) -> Response:
    models.sync_auto_storage_keys(req.store, sub, rg, account)
    return Response.empty(204)


# -- pools -------------------------------------------------------------------------------------


def _pool_response(doc: Any, status: int = 200) -> Response:
    return Response.json(models.render_pool(doc), status=status, headers={"ETag": etag.weak(doc.etag)})


def put_pool(req: Request, sub: str, rg: str, account: str, pool: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    doc, _created = models.create_or_replace_pool(
        req.store,
        acct,
        pool,
        req.json(error_code="InvalidRequestBody"),
        if_match=req.if_match,
        if_none_match=req.if_none_match,
        check_subnet=lambda sid: links.subnet_exists(req.store, sid),
    )
    return _pool_response(doc)  # azure-mgmt-batch expects 200 for a new pool too


def get_pool(req: Request, sub: str, rg: str, account: str, pool: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    return _pool_response(models.require_pool(req.store, acct, pool))


def patch_pool(req: Request, sub: str, rg: str, account: str, pool: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    doc = models.update_pool(
        req.store,
        acct,
        pool,
        req.json(error_code="InvalidRequestBody"),
        if_match=req.if_match,
        if_none_match=req.if_none_match,
        check_subnet=lambda sid: links.subnet_exists(req.store, sid),
    )
    return _pool_response(doc)


def delete_pool(req: Request, sub: str, rg: str, account: str, pool: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    _doc, seconds = models.begin_delete_pool(req.store, acct, pool)
    return lro.accepted(
        req, provider=models.PROVIDER, location=acct.body["location"], duration=seconds, async_header=False
    )


def list_pools(req: Request, sub: str, rg: str, account: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    now = clock.now()
    items = [models.render_pool(d, now) for d in models.pools_of(req.store, acct, now)]
    text = req.query.get("$filter")
    if text:
        try:
            matches = compile_filter(text)
        except ValueError as exc:
            raise errors.invalid_filter(text, str(exc)) from None
        items = [i for i in items if matches(i)]
    selected = req.query.get("$select")
    if selected:
        items = [models.select(i, selected) for i in items]
    return _page(req, items)


def stop_resize(req: Request, sub: str, rg: str, account: str, pool: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    return _pool_response(models.stop_resize(req.store, acct, pool))


def disable_autoscale(req: Request, sub: str, rg: str, account: str, pool: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    return _pool_response(models.disable_autoscale(req.store, acct, pool))


# -- applications ------------------------------------------------------------------------------


def put_application(req: Request, sub: str, rg: str, account: str, app: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    doc, _created = models.create_application(req.store, acct, app, req.json())
    return Response.json(models.render_application(doc))


def get_application(req: Request, sub: str, rg: str, account: str, app: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    return Response.json(models.render_application(models.require_application(req.store, acct, app)))


def patch_application(req: Request, sub: str, rg: str, account: str, app: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    return Response.json(models.render_application(models.update_application(req.store, acct, app, req.json())))


def delete_application(req: Request, sub: str, rg: str, account: str, app: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    models.delete_application(req.store, acct, app)
    return Response.empty(200)


def list_applications(req: Request, sub: str, rg: str, account: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    return _page(req, [models.render_application(d) for d in models.applications_of(req.store, acct)])


def _package_json(req: Request, pkg: Any) -> dict[str, Any]:
    b = pkg.body
    expiry = b["urlIssuedAt"] + models.PACKAGE_URL_LIFETIME
    return models.render_package(pkg, links.blob_sas_url(req, b["storageAccountId"], b["container"], b["blob"], expiry))


def put_package(req: Request, sub: str, rg: str, account: str, app: str, version: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    doc, _created = models.create_package(req.store, acct, app, version, req.json())
    links.ensure_container(req.store, doc.body["storageAccountId"], doc.body["container"])
    return Response.json(_package_json(req, doc))


def get_package(req: Request, sub: str, rg: str, account: str, app: str, version: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    _app, pkg = models.require_package(req.store, acct, app, version)
    return Response.json(_package_json(req, pkg))


def delete_package(req: Request, sub: str, rg: str, account: str, app: str, version: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    models.delete_package(req.store, acct, app, version)
    return Response.empty(200)


def list_packages(req: Request, sub: str, rg: str, account: str, app: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)
    application = models.require_application(req.store, acct, app)
    return _page(req, [_package_json(req, p) for p in models.packages_of(req.store, application)])


def activate_package(req: Request, sub: str, rg: str, account: str, app: str, version: str) -> Response:
    acct = models.require_account(req.store, sub, rg, account)

    def uploaded(pkg: Any) -> bool:
        b = pkg.body
        return links.blob_exists(req.store, b["storageAccountId"], b["container"], b["blob"])

    doc = models.activate_package(req.store, acct, app, version, req.json(), uploaded)
    return Response.json(_package_json(req, doc))


# -- locations ---------------------------------------------------------------------------------


def location_quotas(req: Request, sub: str, location: str) -> Response:
    return Response.json({"accountQuota": 1000})


def check_name_availability(req: Request, sub: str, location: str) -> Response:
    body = req.json()
    name = str(body.get("name") or "") if isinstance(body, dict) else ""
    if not models.ACCOUNT_NAME.match(name):
        return Response.json(
            {
                "nameAvailable": False,
                "reason": "Invalid",
                "message": "Batch account names must be between 3 and 24 characters in length and use numbers "
                "and lower-case letters only.",
            }
        )
    if models.account_by_name(req.store, name) is not None:
        return Response.json(
            {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": f"An account named '{name}' is already in use.",
            }
        )
    return Response.json({"nameAvailable": True})
