"""List responses with continuation links.

    return Response.json(paging.page(req, [doc.body for doc in docs]))
        -> {"value": [...first page...], "nextLink": "https://host/path?api-version=..&$skiptoken=100"}

`size` caps a page (`$top`/`maxresults` in the request lower it, via `size_param`); the token is
an offset into the list as the next request computes it. Batch data plane:
`page(req, items, value_key="value", next_key="odata.nextLink", size_param="maxresults")`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import ApiError
from .messages import Request

TOKEN = "$skiptoken"


def page(
    req: Request,
    items: Sequence[Any],
    *,
    size: int = 1000,
    value_key: str = "value",
    next_key: str = "nextLink",
    size_param: str | None = None,
) -> dict[str, Any]:
    if size_param and req.query.get(size_param):
        try:
            size = max(1, min(size, int(req.query[size_param])))
        except ValueError:
            raise ApiError(400, "InvalidQueryParameterValue", f"Invalid value for {size_param}.") from None
    try:
        start = int(req.query.get(TOKEN) or 0)
    except ValueError:
        raise ApiError(400, "InvalidSkipToken", "The continuation token is invalid.") from None
    out: dict[str, Any] = {value_key: items[start : start + size]}
    if start + size < len(items):
        query = dict(req.query)
        query[TOKEN] = str(start + size)
        out[next_key] = req.url(req.path, query)
    return out
