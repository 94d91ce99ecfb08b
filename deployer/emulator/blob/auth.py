"""Who may call the blob service: shared key, bearer token or SAS, checked per request.

- Shared key (`Authorization: SharedKey {account}:{signature}`): the signature is VERIFIED. The
  string to sign is rebuilt from the request as the Blob REST documentation describes it (verb,
  standard headers, x-ms-* headers, canonicalized resource and query) and HMAC-SHA256-signed with
  each of the account's two keys. The account named in the header is used as signed: on
  localhost / 127.0.0.1 hosts azure-storage-blob reads the account from the URL path, so a client
  made from the account URL signs as `blob/{name}` and one made by `from_blob_url` /
  `from_container_url` as `blob`; those and `{name}` (a named-key credential) are accepted — the
  HMAC with this account's key is the proof. The x-ms-* headers are tried in plain byte order and
  in the SDK's order (hyphens ignored first), since either may be what a client signed. Accounts
  with allowSharedKeyAccess=false refuse it.
- Bearer tokens are accepted whatever they hold, as everywhere in the emulator.
- SAS (`sig` in the query): account SAS (`ss`/`srt`) and service SAS (`sr` = b, bs, bv, c) signed
  with an account key are verified, then checked for the time window (`st`, `se`: 403
  AuthenticationFailed), the protocol, the service / resource type, and the permission the
  operation needs. User-delegation SAS and stored access policies (`si`) are not emulated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import quote, unquote, urlencode

from ..core import Doc, Request, clock
from ..storage import models as storage_models
from . import errors

_STANDARD = (
    "Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type", "Date",
    "If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range",
)  # fmt: skip
_SES_SINCE = "2020-12-06"  # SAS versions from which the string to sign has the encryption scope


def authorize(
    req: Request,
    account: Doc,
    *,
    container: str | None = None,
    blob: str | None = None,
    permission: str = "r",
    service_sas: bool = True,
) -> None:
    """Raise the blob service's 401/403 unless the request may do what it asks.

    `permission` lists the SAS permission letters any one of which allows the operation;
    `service_sas=False` for operations a service SAS can never authorize (container create / delete,
    list containers)."""
    query = raw_query(req)
    if "sig" in query:
        _check_sas(req, account, query, container, blob, permission, service_sas)
        return
    auth = req.authorization
    if auth is None:
        raise errors.no_authentication()
    scheme, credentials = auth
    if scheme.lower() == "bearer" and credentials:
        return
    if scheme == "SharedKey":
        _check_shared_key(req, account, credentials, query)
        return
    raise errors.authentication_failed(f"The authentication scheme {scheme} is not supported by the emulator.")


def raw_query(req: Request) -> dict[str, str]:
    """Query parameters with their names lower-cased and values percent-decoded (not `+`-decoded,
    exactly as signatures are computed); repeated names join their values with commas."""
    return parse_query(req.query_string)


class _NodeRequest:
    """What `_check_sas` reads of a request, for a URL a node uses (always over HTTPS)."""

    scheme = "https"


def check_sas_url(account: Doc, query_string: str, *, container: str | None, blob: str | None,
                  permission: str) -> None:
    """Raise the blob service's ApiError unless the SAS in `query_string` (a URL a Batch node was
    given, e.g. an output file's containerUrl) allows `permission` on the container or blob now.
    No `sig` at all is refused too: the node has no other credential in such a URL."""
    query = parse_query(query_string)
    if "sig" not in query:
        raise errors.no_authentication()
    _check_sas(_NodeRequest(), account, query, container, blob, permission, True)  # type: ignore[arg-type]


def parse_query(query_string: str) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for part in query_string.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        out.setdefault(unquote(name).lower(), []).append(unquote(value))
    return {k: ",".join(v) for k, v in out.items()}


def sign(key: str, text: str) -> str:
    digest = hmac.new(base64.b64decode(key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _matches(account: Doc, text: str, signature: str) -> bool:
    return any(hmac.compare_digest(sign(key, text), signature) for key in storage_models.account_keys(account))


# -- shared key ---------------------------------------------------------------------------------


def _check_shared_key(req: Request, account: Doc, credentials: str, query: dict[str, str]) -> None:
    name = account.body["name"]
    signed_as, _, signature = credentials.rpartition(":")
    if signed_as not in (name, f"blob/{name}", "blob"):
        raise errors.authentication_failed(f"The account {signed_as or '?'} does not own the resource {req.path}.")
    if account.body["properties"].get("allowSharedKeyAccess") is False:
        raise errors.key_auth_not_permitted()
    candidates = [string_to_sign(req, signed_as, query, order) for order in (_plain_order, _sdk_order)]
    for text in candidates:
        if _matches(account, text, signature):
            return
    raise errors.authentication_failed(
        f"The MAC signature found in the HTTP request '{signature}' is not the same as any computed signature. "
        f"Server used following string to sign: '{candidates[0]}'."
    )


def _plain_order(name: str) -> tuple[str, ...]:
    return (name,)


def _sdk_order(name: str) -> tuple[str, ...]:
    return (name.replace("-", ""), name)


def string_to_sign(
    req: Request, signed_as: str, query: dict[str, str], order: Callable[[str], tuple[str, ...]] = _plain_order
) -> str:
    """The Shared Key string to sign for the blob service (version 2009-09-19 and later)."""
    lines = [req.method]
    for header in _STANDARD:
        value = req.headers.get(header, "")
        if header == "Content-Length" and value == "0":
            value = ""
        lines.append(value)
    ms = [(k.lower(), v) for k, v in req.headers.items() if k.lower().startswith("x-ms-")]
    ms.sort(key=lambda kv: order(kv[0]))
    text = "\n".join(lines) + "\n" + "".join(f"{k}:{v}\n" for k, v in ms)
    text += f"/{signed_as}{req.raw_path}"
    for k in sorted(query):
        text += f"\n{k}:{query[k]}"
    return text


# -- shared access signatures -------------------------------------------------------------------


def _check_sas(
    req: Request,
    account: Doc,
    q: dict[str, str],
    container: str | None,
    blob: str | None,
    permission: str,
    service_sas: bool,
) -> None:
    name = account.body["name"]
    is_account_sas = "ss" in q or "srt" in q
    if is_account_sas:
        text = _account_sas_string(q, name)
    elif "sr" in q:
        if "skoid" in q:
            raise errors.authentication_failed("User delegation SAS is not supported by the emulator.")
        text = _service_sas_string(q, _sas_resource(q["sr"], name, container, blob))
    else:
        raise errors.authentication_failed("The SAS names neither a signed resource (sr) nor services (ss).")
    if not _matches(account, text, q["sig"]):
        raise errors.authentication_failed(f"Signature did not match. String to sign used was {text}")
    now = clock.now()
    start, expiry = _sas_time(q, "st"), _sas_time(q, "se")
    if expiry is None or now > expiry or (start is not None and now < start):
        raise errors.authentication_failed(
            f"Signature not valid in the specified time frame: Start [{_http(start)}] - Expiry [{_http(expiry)}] - "
            f"Current [{clock.http_date(now)}]"
        )
    if q.get("spr") == "https" and req.scheme != "https":
        raise errors.protocol_mismatch()
    if is_account_sas:
        level = "s" if container is None else "c" if blob is None else "o"
        if "b" not in q.get("ss", ""):
            raise errors.service_mismatch()
        if level not in q.get("srt", ""):
            raise errors.resource_type_mismatch()
    elif not service_sas:
        raise errors.resource_type_mismatch()
    if not any(p in q.get("sp", "") for p in permission):
        raise errors.permission_mismatch()


def _fields(q: dict[str, str], names: str) -> list[str]:
    return [q.get(n, "") for n in names.split()]


def _account_sas_string(q: dict[str, str], account: str) -> str:
    """Account SAS: account, sp, ss, srt, st, se, sip, spr, sv[, ses], each on its own line."""
    scope = " ses" if q.get("sv", "") >= _SES_SINCE else ""
    return "\n".join([account, *_fields(q, "sp ss srt st se sip spr sv" + scope)]) + "\n"


def _service_sas_string(q: dict[str, str], resource: str) -> str:
    """Service SAS: sp, st, se, resource, si, sip, spr, sv, sr, snapshot[, ses], rscc..rsct."""
    scope = " ses" if q.get("sv", "") >= _SES_SINCE else ""
    head, tail = _fields(q, "sp st se"), _fields(q, "si sip spr sv sr snapshot" + scope + " rscc rscd rsce rscl rsct")
    return "\n".join([*head, resource, *tail])


def service_sas(
    account: Doc,
    container: str,
    blob: str | None = None,
    *,
    permission: str,
    expiry: float,
    start: float | None = None,
    version: str = "2025-01-05",
) -> str:
    """A service SAS query string for a blob (or, without `blob`, a container), signed with key1,
    exactly as this module verifies them: e.g. the `storageUrl` of a Batch application package is
    `blob_endpoint(req.base_url, name) + f"{container}/{blob}?" + service_sas(acct, container, blob,
    permission="rcw", expiry=clock.now() + 3600)`."""
    fields = {"sv": version, "se": clock.iso(expiry, digits=0), "sr": "b" if blob else "c", "sp": permission}
    if start is not None:
        fields["st"] = clock.iso(start, digits=0)
    fields["spr"] = "https"
    name = account.body["name"]
    resource = f"/blob/{name}/{container}/{blob}" if blob else f"/blob/{name}/{container}"
    sig = sign(storage_models.account_key(account), _service_sas_string(fields, resource))
    return urlencode({**fields, "sig": sig}, quote_via=quote)


def _sas_resource(sr: str, account: str, container: str | None, blob: str | None) -> str:
    """The canonicalized resource a service SAS is signed for, from the request's own path."""
    if sr in ("b", "bs", "bv") and container and blob:
        return f"/blob/{account}/{container}/{blob}"
    if sr == "c" and container:
        return f"/blob/{account}/{container}"
    raise errors.resource_type_mismatch()


def _sas_time(q: dict[str, str], name: str) -> float | None:
    value = q.get(name)
    if not value:
        return None
    try:
        return clock.parse_iso(value)
    except ValueError:
        raise errors.authentication_failed(f"The value '{value}' of {name} is not a valid time.") from None


def _http(t: float | None) -> str:
    return clock.http_date(t) if t is not None else ""
