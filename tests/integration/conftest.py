"""Fixtures for integration tests through the real Azure SDK clients against the emulator.

    def test_something(emulator):                 # runs twice: embedded and served
        rg = emulator.clients.resource.resource_groups.create_or_update("rg", {"location": "westus"})
        assert emulator.requests()[-1]["status"] == 201

    def test_flaky(emulator, faults):
        faults("429=0.3", seed=7)                  # DEPLOY_EMULATOR_FAULTS / _SEED for this test
        ...

    def test_time(emulator, frozen_clock):        # clock frozen; frozen_clock.advance(60)
        ...

Fixtures:
  data_dir        a fresh, empty data directory (DEPLOY_LOCAL_DIR points elsewhere, also fresh)
  emulator        an `Emulator` (mode "embedded" | "served"), parametrized over both modes
  embedded_emulator / served_emulator   one mode only
  start_emulator  factory: start_emulator(mode, data_dir) -> Emulator, stopped at teardown
  faults          faults(spec, seed=1, latency_ms=None): set the fault/latency variables
  frozen_clock    the emulator clock (deployer.emulator.core.clock), frozen; reset afterwards
Every test starts with the DEPLOY_EMULATOR_* variables unset, DEPLOY_LOCAL_EXECUTE=0 (the local
target's tasks only pretend to run) and the clock reset.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from deployer.azure import Clients
from deployer.emulator.core import EmulatorApp, clock
from deployer.emulator.core.server import ServedEmulator, start_in_thread

EMULATOR_ENV = ("DEPLOY_EMULATOR_FAULTS", "DEPLOY_EMULATOR_SEED", "DEPLOY_EMULATOR_LATENCY_MS")
MODES = ("embedded", "served")


@dataclass
class Emulator:
    """A running emulator and SDK clients pointed at it."""

    mode: str
    data_dir: Path
    clients: Clients
    app: EmulatorApp  # add test-only routes with emulator.app.router.add(...)
    endpoint: str  # base URL the clients use (https://localhost.emulator or https://127.0.0.1:PORT)
    server: ServedEmulator | None = None
    _extra: list[Clients] = field(default_factory=list, repr=False)

    @property
    def subscription(self) -> str:
        return self.clients.subscription_id

    def new_clients(self) -> Clients:
        """Another, independent set of clients on the same emulator."""
        if self.server is not None:
            c = Clients.for_emulator_served(self.server.endpoint, self.server.ca_file)
        else:
            c = Clients.for_emulator_embedded(self.data_dir)
        self._extra.append(c)
        return c

    def requests(self) -> list[dict[str, Any]]:
        """The request log (requests.jsonl), parsed."""
        path = self.data_dir / "requests.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def clear_requests(self) -> None:
        (self.data_dir / "requests.jsonl").unlink(missing_ok=True)

    def stop(self) -> None:
        for c in [self.clients, *self._extra]:
            c.close()
        if self.server is not None:
            self.server.stop()


def _start(mode: str, data_dir: Path) -> Emulator:
    if mode == "embedded":
        clients = Clients.for_emulator_embedded(data_dir)
        assert clients.app is not None and clients.arm_endpoint is not None
        return Emulator(mode, data_dir, clients, clients.app, clients.arm_endpoint)
    if mode == "served":
        server = start_in_thread(data_dir)
        clients = Clients.for_emulator_served(server.endpoint, server.ca_file)
        return Emulator(mode, data_dir, clients, server.app, server.endpoint, server)
    raise ValueError(mode)


@pytest.fixture(autouse=True)
def _emulator_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in EMULATOR_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "local-dir"))
    # Plan/apply engine tests keep batch_data's timer: no node agent runs the stacks' tasks
    # (tests of the agent set DEPLOY_LOCAL_EXECUTE=1).
    monkeypatch.setenv("DEPLOY_LOCAL_EXECUTE", "0")
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def start_emulator() -> Iterator[Callable[[str, Path], Emulator]]:
    started: list[Emulator] = []

    def start(mode: str, data_dir: Path) -> Emulator:
        emu = _start(mode, data_dir)
        started.append(emu)
        return emu

    yield start
    for emu in reversed(started):
        emu.stop()


@pytest.fixture(params=MODES)
def emulator(
    request: pytest.FixtureRequest, data_dir: Path, start_emulator: Callable[[str, Path], Emulator]
) -> Emulator:
    return start_emulator(request.param, data_dir)


@pytest.fixture
def embedded_emulator(data_dir: Path, start_emulator: Callable[[str, Path], Emulator]) -> Emulator:
    return start_emulator("embedded", data_dir)


@pytest.fixture
def served_emulator(data_dir: Path, start_emulator: Callable[[str, Path], Emulator]) -> Emulator:
    return start_emulator("served", data_dir)


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    def set_faults(spec: str = "", seed: int | str | None = 1, latency_ms: float | None = None) -> None:
        if spec:
            monkeypatch.setenv("DEPLOY_EMULATOR_FAULTS", spec)
        else:
            monkeypatch.delenv("DEPLOY_EMULATOR_FAULTS", raising=False)
        if seed is not None:
            monkeypatch.setenv("DEPLOY_EMULATOR_SEED", str(seed))
        if latency_ms is not None:
            monkeypatch.setenv("DEPLOY_EMULATOR_LATENCY_MS", str(latency_ms))
        else:
            monkeypatch.delenv("DEPLOY_EMULATOR_LATENCY_MS", raising=False)

    return set_faults


@pytest.fixture
def frozen_clock() -> Iterator[Any]:
    clock.freeze()
    yield clock
    clock.reset()


# -- the API contract over the whole run: figures for the note (test_contract.py asserts) ---------

_CONTRACT: dict[str, Any] = {}


@pytest.fixture(scope="session", autouse=True)
def _contract_recording() -> Iterator[None]:
    """Records every Batch request body and JSON response of the run against the definitions
    (deployer.emulator.core.contract); the summary prints the figures and the mismatches, which
    here include the tests that send wrong bodies on purpose."""
    from deployer.emulator.core import contract

    with contract.recording() as rec:
        _CONTRACT["rec"] = rec
        yield


@pytest.fixture(autouse=True)
def _contract_kept(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test fails when a request body it sends, or a response the emulator gives it, breaks the
    API definitions, unless it is marked `contract_violation` (it sends wrong bodies on purpose, to
    see the emulator refuse them the way Azure does)."""
    from deployer.emulator.core import contract

    with contract.recording() as rec:
        yield
    if request.node.get_closest_marker("contract_violation") is not None:
        return
    problems = sorted(set(rec.problems()))
    if problems:
        shown = "\n  ".join(problems[:10])
        pytest.fail(f"{len(problems)} API contract mismatches (mark the test contract_violation only if it "
                    f"sends them on purpose):\n  {shown}", pytrace=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rec = _CONTRACT.get("rec")
    if rec is None or not (rec.requests or rec.responses):
        return
    problems = rec.problems()
    terminalreporter.write_line(f"API contract over this run: {rec.figures()}, {len(problems)} mismatches, "
                                "all from tests marked contract_violation (any other fails its test)")
    for line in sorted(set(problems))[:30]:
        terminalreporter.write_line(f"  {line}")
