"""What a template may cost: the size of what it builds and renders, and its time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from deployer.stack.template.linemap import MARKER


class RenderLimit(Exception):
    """Rendering would produce more than a stack may hold, or takes too long."""

    def __init__(self, message: str, where: tuple[str, int] | None = None) -> None:
        super().__init__(message)
        self.where = where  # (file, line) when the traceback cannot tell


MAX_RENDERED_CHARS = 8 * 1024 * 1024  # the loader's limit for a stack file
MAX_RENDER_SECONDS = 30


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `'x' * 10**9` and `10 ** 10**8` before Python spends the memory or the time."""
    if operator == "*":
        for value, times in ((left, right), (right, left)):
            if (isinstance(value, str | list | tuple) and isinstance(times, int)
                    and len(value) * times > MAX_RENDERED_CHARS):
                raise RenderLimit(f"`*` would build a value of {len(value) * times:,} items; the rendered "
                                  f"stack may hold at most {MAX_RENDERED_CHARS:,} characters")
    elif (operator == "**" and isinstance(left, int) and isinstance(right, int)
          and abs(left) > 1 and right * max(abs(left).bit_length(), 1) > 64 * 1024):
        raise RenderLimit(f"`{left} ** {right}` is too large a number for a stack")


def bounded_render(chunks: Iterator[str], files: Sequence[str]) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        out.append(chunk)
        if size > MAX_RENDERED_CHARS:
            markers = MARKER.findall("".join(out[-64:]))  # the line that was being repeated
            where = (files[int(markers[-1][0])], int(markers[-1][1])) if markers else None
            raise RenderLimit(f"the rendered stack is over {MAX_RENDERED_CHARS // (1024 * 1024)} MB, the limit "
                              "for a stack (a loop that runs away?)", where)
    return "".join(out)


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
