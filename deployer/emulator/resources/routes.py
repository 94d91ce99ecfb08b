"""Microsoft.Resources HTTP surface (what azure-mgmt-resource's ResourceManagementClient sends)."""

from __future__ import annotations

from ..core import ApiError, Request, Response, Router, lro, paging
from . import models

GROUPS = "/subscriptions/{sub}/resourcegroups"
GROUP = GROUPS + "/{rg}"


def register(router: Router) -> None:
    router.add_all(
        {
            GROUP: {
                "PUT": put_group,
                "GET": get_group,
                "HEAD": head_group,
                "PATCH": patch_group,
                "DELETE": delete_group,
            },
            GROUPS: {"GET": list_groups},
            "/subscriptions/{sub}/providers": {"GET": list_providers},
            "/subscriptions/{sub}/providers/{namespace}": {"GET": get_provider},
            "/subscriptions/{sub}/providers/{namespace}/register": {"POST": get_provider},
        }
    )


def put_group(req: Request, sub: str, rg: str) -> Response:
    doc, created = models.create_or_update(req.store, sub, rg, req.json())
    return Response.json(models.render(doc), status=201 if created else 200)


def get_group(req: Request, sub: str, rg: str) -> Response:
    return Response.json(models.render(models.require_group(req.store, sub, rg)))


def head_group(req: Request, sub: str, rg: str) -> Response:
    return Response.empty(204 if models.get_group(req.store, sub, rg) else 404)


def patch_group(req: Request, sub: str, rg: str) -> Response:
    return Response.json(models.render(models.patch(req.store, sub, rg, req.json())))


def delete_group(req: Request, sub: str, rg: str) -> Response:
    models.delete(req.store, sub, rg)
    # ARM answers a group deletion with 202 + Location only (no Azure-AsyncOperation).
    return lro.accepted(req, provider="Microsoft.Resources", location="global", async_header=False)


def list_groups(req: Request, sub: str) -> Response:
    top = req.query.get("$top")
    try:
        limit = int(top) if top else None
    except ValueError:
        raise ApiError(400, "InvalidQueryParameterValue", f"The value '{top}' of $top is invalid.") from None
    items = models.list_groups(req.store, sub, req.query.get("$filter"), limit)
    return Response.json(paging.page(req, items))


def _served_namespaces(req: Request) -> dict[str, set[str]]:
    """Namespace (lower) -> resource types the emulator has routes for, read from the router."""
    assert req.app is not None
    out: dict[str, set[str]] = {"microsoft.resources": {"resourceGroups"}}
    for route in req.app.router.routes:
        segs = [s for s in route.template.split("/") if s]
        low = [s.lower() for s in segs]
        if "providers" not in low:
            continue
        i = low.index("providers")
        if i + 2 < len(segs) and not segs[i + 1].startswith("{") and not segs[i + 2].startswith("{"):
            out.setdefault(segs[i + 1].lower(), set()).add(segs[i + 2])
    return out


def _provider(req: Request, sub: str, namespace: str, types: set[str]) -> dict:
    return {
        "id": f"/subscriptions/{sub}/providers/{namespace}",
        "namespace": namespace,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [{"resourceType": t, "locations": [], "apiVersions": []} for t in sorted(types)],
    }


def get_provider(req: Request, sub: str, namespace: str) -> Response:
    types = _served_namespaces(req).get(namespace.lower())
    if types is None:
        raise ApiError(
            404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid or not emulated."
        )
    return Response.json(_provider(req, sub, namespace, types))


def list_providers(req: Request, sub: str) -> Response:
    spelled = {
        seg.lower(): seg
        for route in req.app.router.routes  # type: ignore[union-attr]
        for seg in route.template.split("/")
        if seg.lower().startswith("microsoft.")
    }
    spelled.setdefault("microsoft.resources", "Microsoft.Resources")
    items = [_provider(req, sub, spelled.get(ns, ns), types) for ns, types in sorted(_served_namespaces(req).items())]
    return Response.json(paging.page(req, items))
