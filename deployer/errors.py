"""The errors a user sees, and the diagnostics they carry.

Every user mistake ends as one of these exceptions; the CLI renders them and exits 1.
Anything else escaping the engine is a bug in the deployer, not in the user's input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding about a user's file, in the `FILE:LINE:COL: error: MESSAGE (at path)` shape.

    `line` and `column` are 1-based; they are 0 when the finding has no position (for example
    a file that cannot be read at all). `path` is the dotted address inside the document.
    """

    file: str
    line: int
    column: int
    message: str = field(compare=False)
    path: str = field(default="", compare=False)
    severity: str = field(default="error", compare=False)

    def format(self) -> str:
        where = self.file if not self.line else f"{self.file}:{self.line}:{self.column}"
        at = f" (at {self.path})" if self.path else ""
        return f"{where}: {self.severity}: {self.message}{at}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
        }


class DeployerError(Exception):
    """Base of every error caused by input or by Azure, as opposed to a bug in the deployer."""


class StackError(DeployerError):
    """A stack (or variable file, or saved plan) is invalid; carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: Sequence[Diagnostic] = sorted(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


class SecretUnavailable(DeployerError):
    """A secret reference that cannot be resolved (unset environment variable, unreadable file);
    planning turns it into a diagnostic at the reference's place in the stack."""


class UsageError(DeployerError):
    """A command-line mistake: a bad flag value, a missing argument, a wrong combination."""


class PlanError(DeployerError):
    """Planning could not finish (for example live state could not be read)."""


class ApplyError(DeployerError):
    """Applying a plan failed for at least one resource."""


class AzureError(DeployerError):
    """Azure (or the emulator) refused a request; the message names the resource and the code."""


class LocalStateError(DeployerError):
    """The local target's state cannot be used (its folder is a file or read-only, its SQLite file
    is damaged): the message names the file and what to do about it."""
