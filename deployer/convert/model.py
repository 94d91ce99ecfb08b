"""What a conversion produces: the stack document (plain data) and the findings about it.

A finding names where it came from in the source (`pool.yaml: pool_specification.ssh`) and where
it lands in the stack (`batchAccounts.main.pools.blast`): the written YAML carries it as a comment
above that address, and the report lists it. `dropped` findings are the exact list of source
settings the stack does not carry; `secret` findings name the environment variables to set;
`review` findings are carried over but may not mean quite the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Path = tuple[str | int, ...]
Kind = Literal["dropped", "secret", "review"]


@dataclass(frozen=True)
class Finding:
    kind: Kind
    source: str  # FILE: dotted.path.in.source
    address: Path  # where in the stack it belongs (the nearest thing that exists)
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source,
                "address": ".".join(str(p) for p in self.address), "reason": self.reason}


@dataclass
class Conversion:
    """The stack being built and what was learnt on the way. Converters fill it in."""

    stack: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    # stack address -> source location of the subtree copied there (see `source_of`)
    origins: dict[Path, str] = field(default_factory=dict)

    def came_from(self, address: Path, source: str) -> None:
        self.origins[address] = source

    def source_of(self, address: Path) -> str:
        """Where a stack address came from: the nearest recorded ancestor plus the rest of the
        path (subtrees copied as they are keep their property names)."""
        for n in range(len(address), -1, -1):
            origin = self.origins.get(address[:n])
            if origin is not None:
                rest = ".".join(str(p) for p in address[n:])
                return f"{origin}.{rest}" if rest else origin
        return ".".join(str(p) for p in address)

    def drop(self, source: str, address: Path, reason: str) -> None:
        finding = Finding("dropped", source, address, reason)
        if finding not in self.findings:
            self.findings.append(finding)

    def review(self, source: str, address: Path, reason: str) -> None:
        self.findings.append(Finding("review", source, address, reason))

    def secret(self, source: str, address: Path, variable: str) -> dict[str, str]:
        """A `{secret: env:VARIABLE}` reference for a secret found in the source; the value
        itself is never kept."""
        self.findings.append(Finding("secret", source, address,
                                     f"secret moved out of the stack: set environment variable {variable}"))
        return {"secret": f"env:{variable}"}

    @property
    def dropped(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "dropped"]
