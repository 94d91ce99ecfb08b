"""What a template may cost: the size of what it builds and renders, and its time.

Every operator, method, filter and global that can build a string or a list bigger than its
inputs is checked *before* it runs, from its arguments (a width, a count, a format spec): `*`,
`**`, `+`, `~`, `%`, `str.center/ljust/rjust/zfill/expandtabs/replace/join/format/format_map`,
and the filters `format`, `center`, `indent`, `wordwrap`, `join`, `replace`, `batch`, `slice`,
`tojson`, and `lipsum`. Each result is at most the size of a stack (8 MB); the rendered text as a
whole is bounded too, and a render that loops for too long is stopped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any

from deployer.stack.template.linemap import MARKER


class RenderLimit(Exception):
    """Rendering would produce more than a stack may hold, or takes too long."""

    def __init__(self, message: str, where: tuple[str, int] | None = None) -> None:
        super().__init__(message)
        self.where = where  # (file, line) when the traceback cannot tell


MAX_RENDERED_CHARS = 8 * 1024 * 1024  # the loader's limit for a stack file
MAX_RENDER_SECONDS = 30


MAX_NUMBER_BITS = 64 * 1024  # a 20,000-digit number: far past any field, still quick to compute
MAX_JSON_INDENT = 64
_SIZED = str | list | tuple


def _refuse(what: str, size: int) -> None:
    if size > MAX_RENDERED_CHARS:
        raise RenderLimit(f"{what} would build a value of {size:,} items; the rendered stack may hold at most "
                          f"{MAX_RENDERED_CHARS:,} characters")


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `'x' * 10**9`, `10 ** 10**8`, `'%999999999s' % x` and doubling by `+` before Python
    spends the memory or the time."""
    if operator == "*":
        for value, times in ((left, right), (right, left)):
            if isinstance(value, _SIZED) and isinstance(times, int):
                _refuse("`*`", len(value) * times)
        if (isinstance(left, int) and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_NUMBER_BITS):
            raise RenderLimit("`*` would build too large a number for a stack")
    elif operator == "+":
        if isinstance(left, _SIZED) and isinstance(right, _SIZED):
            _refuse("`+`", len(left) + len(right))
    elif operator == "%":
        if isinstance(left, str):
            check_percent(left, right)
    elif (operator == "**" and isinstance(left, int) and isinstance(right, int)
          and abs(left) > 1 and right * max(abs(left).bit_length(), 1) > MAX_NUMBER_BITS):
        raise RenderLimit(f"`{left} ** {right}` is too large a number for a stack")


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_NUMBER = re.compile(r"\d+")


def _spec_number(digits: str) -> int:
    """A width or precision as written (a 5,000-digit one would not even convert)."""
    return int(digits) if len(digits) <= 30 else 10**30


def _int_arguments(args: Any) -> list[int]:
    values = args if isinstance(args, tuple | list) else (args,)
    if isinstance(args, dict):
        values = tuple(args.values())
    return [v for v in values if isinstance(v, int)]


def check_percent(template: str, args: Any) -> None:
    """`'%9999999999s' % x`: a width or precision (written, or taken from the arguments with `*`)
    past the limit is refused before formatting."""
    for match in _PERCENT_SPEC.finditer(template):
        for number in match.groups():
            if number is None:
                continue
            if number == "*":
                for value in _int_arguments(args):
                    _refuse("`%` formatting", abs(value))
            else:
                _refuse("`%` formatting", _spec_number(number))


def check_format(template: str, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
    """`'{:>999999999}'.format(x)`, also with the width from an argument (`'{:{}}'`)."""
    import string

    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return  # str.format raises the same error, with its own message
    for _, _, spec, _ in fields:
        if not spec:
            continue
        for number in _FORMAT_NUMBER.findall(spec):
            _refuse("`format`", _spec_number(number))
        if "{" in spec:
            for value in [*_int_arguments(tuple(args)), *_int_arguments(kwargs)]:
                _refuse("`format`", abs(value))


def _text_size(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(str(value))


def _lines(text: str) -> int:
    return text.count("\n") + 1


# What each string method would build, from its receiver and arguments (an upper bound).
def _method_size(name: str, text: str, args: Sequence[Any], kwargs: dict[str, Any]) -> int | None:
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        return max(len(text), width) if isinstance(width, int) else None
    if name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        return len(text) + text.count("\t") * size if isinstance(size, int) else None
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        old, new = args[0], args[1]
        count = text.count(old) if old else len(text) + 1
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            count = min(count, args[2])
        return len(text) + count * max(len(new) - len(old), 0)
    return None


def check_call(obj: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Callable[..., Any] | None:
    """Check a call made by a template before it runs; for `str.join`, return a replacement that
    measures the items first (they may come from a generator, read only once)."""
    receiver = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if not isinstance(receiver, str):
        return None
    if name == "join":
        return lambda items: bounded_join(receiver, items, f"`{name}`")
    size = _method_size(name, receiver, args, kwargs)
    if size is not None:
        _refuse(f"`{name}`", size)
    return None


def bounded_join(separator: str, items: Any, what: str = "`join`") -> str:
    parts = [item if isinstance(item, str) else str(item) for item in items]
    _refuse(what, sum(map(len, parts)) + len(separator) * max(len(parts) - 1, 0))
    return separator.join(parts)


def bounded_concat(parts: Sequence[Any]) -> str:
    """`a ~ b`: Jinja's str_join, measured first."""
    texts = [part if isinstance(part, str) else str(part) for part in parts]
    _refuse("`~`", sum(map(len, texts)))
    return "".join(texts)


def guard_filters(filters: dict[str, Callable[..., Any]]) -> None:
    """Wrap the built-in filters that build more than they are given with a check of their
    arguments, in place."""

    def guarded(name: str, measure: Callable[..., None]) -> None:
        original = filters.get(name)
        if original is None:
            return
        pass_arg = getattr(original, "jinja_pass_arg", None)

        @wraps(original)
        def checked(*args: Any, **kwargs: Any) -> Any:
            offset = 1 if pass_arg is not None else 0  # the environment or context Jinja passes first
            measure(*args[offset:], **kwargs)
            return original(*args, **kwargs)

        if pass_arg is not None:
            checked.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
        filters[name] = checked

    def center(value: Any, width: Any = 80) -> None:
        if isinstance(width, int):
            _refuse("`center`", max(_text_size(value), width))

    def indent(value: Any, width: Any = 4, *args: Any, **kwargs: Any) -> None:
        text = value if isinstance(value, str) else str(value)
        pad = width if isinstance(width, int) else len(str(width))
        _refuse("`indent`", len(text) + _lines(text) * pad)

    def wordwrap(value: Any, width: Any = 79, break_long_words: Any = True, wrapstring: Any = None,
                 *args: Any, **kwargs: Any) -> None:
        text = value if isinstance(value, str) else str(value)
        wrap = len(wrapstring) if isinstance(wrapstring, str) else 1
        per_line = max(width, 1) if isinstance(width, int) else 1
        _refuse("`wordwrap`", len(text) + (len(text) // per_line + _lines(text)) * wrap)

    def fmt(value: Any, *args: Any, **kwargs: Any) -> None:
        check_percent(str(value), kwargs or args)

    def replace(value: Any, old: Any = "", new: Any = "", count: Any = None) -> None:
        size = _method_size("replace", str(value), (str(old), str(new), *(() if count is None else (count,))), {})
        _refuse("`replace`", size or 0)

    def batch(value: Any, linecount: Any = 1, fill_with: Any = None) -> None:
        if fill_with is not None and isinstance(linecount, int):
            _refuse("`batch`", linecount)

    def slices(value: Any, slices: Any = 1, fill_with: Any = None) -> None:
        if isinstance(slices, int):
            _refuse("`slice`", slices)

    def tojson(value: Any, indent: Any = None) -> None:
        if isinstance(indent, int) and indent > MAX_JSON_INDENT:
            raise RenderLimit(f"`tojson` indent {indent:,} is over the limit of {MAX_JSON_INDENT}")

    for name, measure in (("center", center), ("indent", indent), ("wordwrap", wordwrap), ("format", fmt),
                          ("replace", replace), ("batch", batch), ("slice", slices), ("tojson", tojson)):
        guarded(name, measure)
    join = filters.get("join")
    if join is not None:
        @wraps(join)
        def checked_join(eval_ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> Any:
            items = list(value) if not isinstance(value, str) else value
            separator = d if isinstance(d, str) else str(d)
            sizes = sum(_text_size(item) for item in items) + len(separator) * max(len(items) - 1, 0)
            _refuse("`join`", sizes)
            return join(eval_ctx, items, d, attribute)

        checked_join.jinja_pass_arg = join.jinja_pass_arg  # type: ignore[attr-defined]
        filters["join"] = checked_join


def bounded_lipsum(original: Callable[..., str]) -> Callable[..., str]:
    @wraps(original)
    def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
        if isinstance(n, int) and isinstance(max, int):
            _refuse("`lipsum`", n * max * 12)
        return original(n, html, min, max)

    return lipsum


def limited_sandbox() -> type:
    """Jinja2's immutable sandbox with every builder above checked (imports Jinja2: call it only
    when rendering)."""
    from jinja2.compiler import CodeGenerator, Frame
    from jinja2.nodes import Concat
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedConcat(CodeGenerator):
        """`a ~ b` through `environment.bounded_concat` instead of Jinja's unchecked str_join."""

        def visit_Concat(self, node: Concat, frame: Frame) -> None:  # noqa: N802 - Jinja's visitor name
            self.write("environment.bounded_concat((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    class LimitedSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "+", "%"})
        code_generator_class = BoundedConcat

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            guard_filters(self.filters)
            lipsum = self.globals.get("lipsum")
            if callable(lipsum):
                self.globals["lipsum"] = bounded_lipsum(lipsum)

        @staticmethod
        def bounded_concat(parts: Sequence[Any]) -> str:
            return bounded_concat(parts)

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            replacement = check_call(__obj, args, kwargs)
            if replacement is not None and __self.is_safe_callable(__obj):
                return replacement(*args, **kwargs)
            return super().call(__context, __obj, *args, **kwargs)

        def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
            wrapped = super().wrap_str_format(value)
            if wrapped is None:
                return None
            template = value.__self__
            is_map = value.__name__ == "format_map"

            def checked(*args: Any, **kwargs: Any) -> str:
                if is_map and len(args) == 1 and isinstance(args[0], dict):
                    check_format(template, (), args[0])
                else:
                    check_format(template, args, kwargs)
                return wrapped(*args, **kwargs)

            return checked

    return LimitedSandbox


def bounded_render(chunks: Iterator[str], files: Sequence[str]) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        out.append(chunk)
        if size > MAX_RENDERED_CHARS:
            where = _rendering_line(chunk, chunks, out, files)
            raise RenderLimit(f"the rendered stack is over {MAX_RENDERED_CHARS // (1024 * 1024)} MB, the limit "
                              "for a stack (a loop that runs away?)", where)
    return "".join(out)


def _rendering_line(current: str, rest: Iterator[str], seen: list[str],
                   files: Sequence[str]) -> tuple[str, int] | None:
    """The (file, line) that was rendering when the output went past the limit. A line's marker
    ends it, so it is the first marker in the chunk that crossed the limit or after it: the rest
    is read (a bounded amount, not kept) to find it. Failing that, the last marker seen."""
    found = MARKER.search(current)
    scanned = 0
    try:
        while found is None and scanned < 2 * MAX_RENDERED_CHARS:
            chunk = next(rest)
            scanned += len(chunk)
            found = MARKER.search(chunk)
    except Exception:  # noqa: BLE001 - the end of the text, or the next error: fall back
        found = None
    if found is None:
        markers = MARKER.findall("".join(seen[-64:]))
        return (files[int(markers[-1][0])], int(markers[-1][1])) if markers else None
    return files[int(found.group(1))], int(found.group(2))


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Stop a template that loops for too long (where SIGALRM exists and we are on the main thread)."""
    import signal
    import threading

    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise RenderLimit(f"rendering took over {seconds} s (a loop that runs away?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
