"""Everything the deployer prints: diagnostics, results, errors.

Colour goes to a terminal only: rich turns it off when the stream is not a TTY and when
NO_COLOR is set. Machine-readable output (JSON) is written plainly to stdout, never styled.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from deployer.errors import Diagnostic
    from deployer.plan.model import Plan
    from deployer.stack.validate import ValidationResult


@cache
def out() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, emoji=False)


@cache
def err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


_STYLE = {"error": "bold red", "warning": "bold yellow"}


# Characters that would break a diagnostic's one line or act on the terminal (escape sequences,
# bidirectional overrides, line and paragraph separators), and lone surrogates (a file name that
# is not UTF-8), which no stream can encode.
_INVISIBLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
                        "\ud800-\udfff]")


def visible(text: str, *, newlines: bool = False) -> str:
    """User text as printable, one-line text: control and invisible characters as escapes."""
    def escape_char(match: re.Match[str]) -> str:
        char = match.group()
        if newlines and char == "\n":
            return char
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _INVISIBLE.sub(escape_char, str(text))


def styled(stream: Any) -> bool:
    """Whether rich would style text written to `stream`, by rich's own rule (TTY_COMPATIBLE,
    then FORCE_COLOR, then isatty). When it would not — a pipeline, a redirect — the deployer
    writes the same text itself and never imports rich: 30 ms of every `deploy validate` in CI."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    if not styled(sys.stderr):
        sys.stderr.writelines("".join(text for text, _ in _diagnostic_parts(d)) + "\n" for d in diagnostics)
        return
    from rich.text import Text

    console = err()
    for d in diagnostics:
        line = Text()
        for text, style in _diagnostic_parts(d):
            line.append(text, style=style)
        console.print(line)


def _diagnostic_parts(d: Diagnostic) -> list[tuple[str, str | None]]:
    """`FILE:LINE:COL: error: message (at path)` in pieces, each with its style on a terminal."""
    where = visible(d.file) if not d.line else f"{visible(d.file)}:{d.line}:{d.column}"
    parts: list[tuple[str, str | None]] = [
        (where, "bold"), (": ", None), (f"{d.severity}:", _STYLE.get(d.severity, "bold")),
        (f" {visible(d.message)}", None),
    ]
    if d.path:
        parts.append((f" (at {visible(d.path)})", "dim"))
    return parts


def print_validation(results: Sequence[ValidationResult], fmt: str) -> None:
    if fmt == "json":
        write_json(
            {
                "formatVersion": 1,
                "valid": all(r.ok for r in results),
                "files": [{"file": r.file, "valid": r.ok} for r in results],
                "diagnostics": [d.as_dict() for r in results for d in r.diagnostics],
            }
        )
        return
    for result in results:
        print_diagnostics(result.diagnostics)
    plain = not styled(sys.stdout)
    for result in results:
        errors = sum(1 for d in result.diagnostics if d.severity == "error")
        noun = "error" if errors == 1 else "errors"
        if plain:
            verdict = "ok" if result.ok else "invalid"
            sys.stdout.write(f"{verdict} {visible(result.file)}{'' if result.ok else f': {errors} {noun}'}\n")
        elif result.ok:
            out().print(f"[green]ok[/green] {escape(visible(result.file))}")
        else:
            out().print(f"[red]invalid[/red] {escape(visible(result.file))}: {errors} {noun}")


def print_plan(plan: Plan, fmt: str) -> None:
    from deployer.plan.render import render_json, render_markdown, render_text

    if fmt == "json":
        sys.stdout.write(render_json(plan))
    elif fmt == "markdown":
        sys.stdout.write(render_markdown(plan))
    else:
        sys.stdout.write(render_text(plan, color=use_color()))
    sys.stdout.flush()


def use_color() -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    import os

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def print_error(message: str) -> None:
    err().print(f"[bold red]error:[/bold red] {escape(visible(message, newlines=True))}", markup=True,
                highlight=False)


def print_warning(message: str) -> None:
    """A warning on stderr: stdout stays the command's output (a plan, JSON events)."""
    err().print(f"[bold yellow]warning:[/bold yellow] {escape(visible(message, newlines=True))}", markup=True,
                highlight=False)


def escape(text: str) -> str:
    """User text (file names, names, Azure's messages) inside markup: printed as written, never
    read as rich markup (a file named `a[/b].yaml` would otherwise be a MarkupError)."""
    from rich.markup import escape as rich_escape

    return rich_escape(str(text))


def write_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=False) + "\n")


# --- apply and destroy ------------------------------------------------------------------------------


def print_plan_event(plan: Plan, fmt: str) -> None:
    """The plan apply (or destroy) is about to run: text like `deploy plan`, or one JSON event line."""
    if fmt == "json":
        write_event({"event": "plan", **plan.to_dict()})
    else:
        print_plan(plan, "text")


def write_event(value: Any) -> None:
    sys.stdout.write(json.dumps(value, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def info(message: str, fmt: str = "text") -> None:
    if fmt == "json":
        write_event({"event": "info", "message": message})
    else:
        err().print(message, markup=False, highlight=False)


def confirm(question: str) -> bool:
    """Ask yes/no on the terminal; only `yes` (or `y`) goes ahead."""
    err().print(f"{question} Only 'yes' will be accepted: ", end="", markup=False)
    try:
        answer = input()
    except EOFError:
        return False
    return answer.strip().lower() in ("yes", "y")


class Progress:
    """Progress of an apply: plain timestamped lines (not a terminal), a live view (a terminal), or
    one JSON event per line (`--format json`). Messages arrive already scrubbed of secrets."""

    def __init__(self, fmt: str = "text", *, live: bool | None = None) -> None:
        import threading

        self.fmt = fmt
        self.live_view = (sys.stdout.isatty() if live is None else live) and fmt != "json"
        self._lock = threading.Lock()
        self._rows: dict[str, list[str]] = {}
        self._live: Any = None
        self._running: dict[str, str] = {}  # address → action, started and not yet finished
        self._finished: dict[str, str] = {}  # address → "done" | "failed" | "skipped"
        self._at_interrupt: dict[str, str] | None = None

    def __enter__(self) -> Progress:
        if self.live_view:
            from rich.live import Live

            self._live = Live(self._table(), console=out(), refresh_per_second=8, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(*args)
            self._live = None

    def _table(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, show_header=False, pad_edge=False)
        styles = {"started": "cyan", "done": "green", "failed": "bold red", "skipped": "yellow", "progress": "cyan"}
        for address, (kind, action, elapsed, message) in self._rows.items():
            state = {"started": "running…", "done": "done", "failed": "failed", "skipped": "not started",
                     "progress": "running…"}[kind]
            table.add_row(Text(address), Text(action), f"[{styles[kind]}]{state}[/]", elapsed, Text(message))
        return table

    def __call__(self, event: Any) -> None:
        import time as _time

        with self._lock:
            if event.kind == "started":
                self._running[event.address] = event.action
            else:
                self._running.pop(event.address, None)
                self._finished[event.address] = event.kind
            if self.fmt == "json":
                write_event({"time": _time.strftime("%Y-%m-%dT%H:%M:%S"), **event.to_dict()})
                return
            if self._live is not None:
                elapsed = f"{event.elapsed:.1f}s" if event.kind in ("done", "failed") else ""
                if event.kind == "progress" and event.address in self._rows:
                    self._rows[event.address][3] = event.message
                else:
                    self._rows[event.address] = [event.kind, event.action, elapsed, event.message]
                self._live.update(self._table())
                return
            stamp = _time.strftime("%H:%M:%S")
            text = {
                "started": f"{event.address}: {event.action} started",
                "done": f"{event.address}: {event.action} done in {event.elapsed:.1f}s",
                "failed": f"{event.address}: {event.action} FAILED after {event.elapsed:.1f}s: {event.message}",
                "skipped": f"{event.address}: {event.action} not started ({event.message})",
                "progress": f"{event.address}: {event.message}",
            }[event.kind]
            sys.stdout.write(f"{stamp} {text}\n")
            sys.stdout.flush()

    def on_interrupt(self) -> Any:
        """While the run lasts, Ctrl-C first notes what was running (the executor then lets those
        steps finish before the interrupt reaches the command), then interrupts as usual."""
        import contextlib
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return contextlib.nullcontext()

        def handler(signum: int, frame: Any) -> None:
            with self._lock:
                if self._at_interrupt is None:
                    self._at_interrupt = dict(self._running)
            signal.default_int_handler(signum, frame)

        @contextlib.contextmanager
        def installed() -> Any:
            previous = signal.signal(signal.SIGINT, handler)
            try:
                yield
            finally:
                signal.signal(signal.SIGINT, previous)

        return installed()

    def interrupted(self, verb: str, resume: str) -> None:
        """What Ctrl-C stopped: what was running then (and how it ended), what is done, and how to go on."""
        running = self._at_interrupt if self._at_interrupt is not None else dict(self._running)
        done = [a for a, kind in self._finished.items() if kind == "done"]
        how = {a: self._finished.get(a, "unknown") for a in running}
        if self.fmt == "json":
            write_event({"event": "interrupted", "inFlight": [{"address": a, "action": act, "outcome": how[a]}
                                                              for a, act in running.items()],
                         "done": done, "resume": resume})
            return
        lines = [f"{verb} interrupted: {len(done)} done"
                 + (f", {len(running)} in flight (let finish, not rolled back):" if running else
                    ", nothing in flight.")]
        lines += [f"  in flight: {address}: {action}" + (f" ({how[address]})" if how[address] != "unknown" else "")
                  for address, action in running.items()]
        lines.append(f"Run `{resume}` again to finish: it plans from what is live now and makes only what is "
                     "still missing.")
        try:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
        except OSError:
            pass

    def summary(self, result: Any, verb: str = "Apply") -> None:
        if self.fmt == "json":
            write_event(result.to_dict())
            return
        lines = [f"{verb} {'complete' if result.ok else 'failed'}: {len(result.done)} done, "
                 f"{len(result.failed)} failed, {len(result.not_started)} not started "
                 f"({result.elapsed:.1f}s)."]
        for address, message in result.failed.items():
            lines.append(f"  failed: {address}: {message}")
        for address in result.not_started:
            lines.append(f"  not started: {address}")
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
