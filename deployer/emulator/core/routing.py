"""A small router: services register (method, path template, handler).

    router.add("GET", "/subscriptions/{sub}/resourcegroups/{rg}", get_group)
    router.add_all({GROUP: {"PUT": put_group, "GET": get_group}, GROUPS: {"GET": list_groups}})
    router.add("PUT", "/blob/{account}/{container}", create_container,
               query={"restype": "container"}, api_version=False)
    router.add("GET", "/blob/{account}/{container}/{blob*}", get_blob, api_version=False)
    router.errors("/blob/", render_storage_xml)

Templates:
- literal segments match case-insensitively (ARM does; the SDKs vary the case, e.g. `resourcegroups`);
- `{name}` matches one segment, passed to the handler as keyword `name` (decoded, case preserved);
- `{name*}` (last segment only) matches the rest of the path, slashes included;
- `query={"comp": "list"}` makes the route match only when the query has those values
  (case-insensitive); such routes win over the same path without constraints.

Handlers are `handler(req: Request, **params) -> Response` (a dict or list returned is sent as
200 JSON; None as 200 with no body). Options: `api_version=False` for APIs that do not take the
`api-version` query parameter (blob uses `x-ms-version`), `auth=False` for routes that do their
own authorization (or none).

A path no route matches is a 404 (`InvalidResourceType` / `NotFound`); a path that matches with
another method is a 405. Both, and every ApiError, are rendered by the renderer registered for
the longest matching prefix (`router.errors`), ARM's envelope by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, method_not_allowed, not_found, render_arm
from .messages import Headers, Request, Response

Handler = Callable[..., Any]
Renderer = Callable[[ApiError, Request], Response]

__all__ = ["Handler", "Headers", "Renderer", "Request", "Response", "Route", "Router"]

_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\*?)\}$")


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    api_version: bool = True
    auth: bool = True
    query: dict[str, str] = field(default_factory=dict)
    # compiled: list of (literal_lower | None, param_name | None); rest: catch-all param
    parts: list[tuple[str | None, str | None]] = field(default_factory=list)
    rest: str | None = None

    def specificity(self) -> tuple[int, int, int, int]:
        literals = sum(1 for lit, _ in self.parts if lit is not None)
        return (-len(self.query), self.rest is not None, -literals, -len(self.parts))

    def match_path(self, segments: list[str]) -> dict[str, str] | None:
        n = len(self.parts)
        if self.rest is None:
            if len(segments) != n:
                return None
        elif len(segments) <= n:
            return None
        params: dict[str, str] = {}
        for (lit, name), seg in zip(self.parts, segments, strict=False):
            if lit is not None:
                if seg.lower() != lit:
                    return None
            else:
                params[name or ""] = seg
        if self.rest is not None:
            params[self.rest] = "/".join(segments[n:])
        return params

    def match_query(self, query: Headers) -> bool:
        return all((query.get(k) or "").lower() == v.lower() for k, v in self.query.items())


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._renderers: list[tuple[str, Renderer]] = []

    def add(
        self,
        method: str,
        template: str,
        handler: Handler,
        *,
        api_version: bool = True,
        auth: bool = True,
        query: Mapping[str, str] | None = None,
    ) -> Route:
        route = Route(method.upper(), template, handler, api_version, auth, dict(query or {}))
        segs = [s for s in template.split("/") if s]
        for i, seg in enumerate(segs):
            m = _PARAM.match(seg)
            if m and m.group(2):
                if i != len(segs) - 1:
                    raise ValueError(f"catch-all parameter must be last: {template}")
                route.rest = m.group(1)
            elif m:
                route.parts.append((None, m.group(1)))
            else:
                route.parts.append((seg.lower(), None))
        self._routes.append(route)
        self._routes.sort(key=Route.specificity)
        return route

    def add_all(self, table: Mapping[str, Mapping[str, Handler]], **options: Any) -> None:
        """`add` every route of a table {template: {method: handler}}, e.g. a resource's verbs:

        router.add_all({GROUP: {"PUT": put_group, "GET": get_group}, GROUPS: {"GET": list_groups}})
        """
        for template, handlers in table.items():
            for method, handler in handlers.items():
                self.add(method, template, handler, **options)

    def route(self, method: str, template: str, **options: Any) -> Callable[[Handler], Handler]:
        """Decorator form of `add`."""

        def deco(fn: Handler) -> Handler:
            self.add(method, template, fn, **options)
            return fn

        return deco

    def errors(self, prefix: str, renderer: Renderer) -> None:
        """Render errors of requests whose path starts with `prefix` (case-insensitive) with `renderer`."""
        self._renderers.append((prefix.lower(), renderer))
        self._renderers.sort(key=lambda pr: -len(pr[0]))

    def renderer_for(self, path: str) -> Renderer:
        low = path.lower()
        for prefix, renderer in self._renderers:
            if low.startswith(prefix) or low + "/" == prefix:
                return renderer
        return render_arm

    @property
    def routes(self) -> list[Route]:
        return list(self._routes)

    def match(self, request: Request) -> tuple[Route, dict[str, str]]:
        """The route for a request, or ApiError 404 / 405."""
        allowed: list[str] = []
        for route in self._routes:
            params = route.match_path(request.segments)
            if params is None or not route.match_query(request.query):
                continue
            if route.method == request.method:
                return route, params
            allowed.append(route.method)
        if allowed:
            raise method_not_allowed(request, allowed)
        raise not_found(request)
