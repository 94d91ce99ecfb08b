"""Key Vault secrets HTTP surface, as azure-keyvault-secrets' SecretClient sends it.

Each vault is at `https://{host}/keyvault/{vault}` (path-style, like /blob and /batch):

    PUT /keyvault/{vault}/secrets/{name}              set secret (a new version)
    GET /keyvault/{vault}/secrets/{name}              the current version
    GET /keyvault/{vault}/secrets/{name}/{version}    one version

Authentication is Key Vault's challenge protocol: a request without a bearer token (the SDK's
first, body-less request) gets 401 with
`WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="https://vault.azure.net"`;
the client then asks its credential for a `https://vault.azure.net/.default` token and resends the
original request. Any bearer token is accepted. The challenge's resource does not match the
emulator's host, so clients are built with `verify_challenge_resource=False` (Clients.secrets).

Secret ids: SecretClient parses every returned `id` as `https://{vault host}/secrets/{name}[/{version}]`
(exactly two or three path segments), so a path-style id would not parse. Ids are therefore
host-style, with the vault as a sub-domain of the emulator's host:
`https://{vault}.{host}/secrets/{name}/{version}` — name and version read back exactly; the id is
an identifier, not an address (requests go to the path-style vault URL).
Errors are Key Vault's `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..core import ApiError, Request, Response, Router
from . import errors, models

SECRET = "/keyvault/{vault}/secrets/{name}"
VERSION = "/keyvault/{vault}/secrets/{name}/{version}"

Handler = Callable[..., Response]


def register(router: Router) -> None:
    router.add("PUT", SECRET, _authorized(set_secret), auth=False)
    router.add("GET", SECRET, _authorized(get_secret), auth=False)
    router.add("GET", VERSION, _authorized(get_secret), auth=False)
    router.errors("/keyvault/", render_error)


def _authorized(handler: Handler) -> Handler:
    """Answer a request without a bearer token with Key Vault's challenge (before reading its body)."""

    @functools.wraps(handler)
    def run(req: Request, **params: str) -> Response:
        auth = req.authorization
        if auth is None or auth[0].lower() != "bearer" or not auth[1]:
            raise errors.challenge()
        return handler(req, **params)

    return run


def render_error(error: ApiError, request: Request | None = None) -> Response:
    return Response.json({"error": {"code": error.code, "message": error.message}}, status=error.status,
                         headers=error.headers)


def _vault_host(req: Request, vault: str) -> str:
    return f"{req.scheme}://{vault.lower()}.{req.host}"


def set_secret(req: Request, vault: str, name: str) -> Response:
    doc, version = models.set_secret(req.store, vault, name, req.json(error_code="BadParameter"))
    return Response.json(models.render(doc, version, _vault_host(req, vault)))


def get_secret(req: Request, vault: str, name: str, version: str | None = None) -> Response:
    models.validate_name(name)
    doc, found = models.get_version(req.store, vault, name, version)
    return Response.json(models.render(doc, found, _vault_host(req, vault)))
