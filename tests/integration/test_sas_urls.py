"""SAS URLs are secrets: `httpUrl`, `storageContainerUrl`, `containerUrl` take `{secret: …}`; the
plan compares them by value (no phantom diff after apply), shows a change as `(sensitive)`, and
never prints the signature — also of the URL Azure returns on the live side."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.cli import main
from tests.integration.copies import copy_stacks

SIGNATURE = "c2lnbmF0dXJlQ0FOQVJZ4711"
URL = "https://stquickstart01.blob.core.windows.net/input/tool.sh?sv=2024-08-04&sp=r&sig=" + SIGNATURE
START_TASK = """\
        startTask:
          commandLine: /bin/bash -c "bash tool.sh"
          resourceFiles:
            - httpUrl: {secret: env:TOOL_SAS_URL}
              filePath: tool.sh
            - storageContainerUrl: {secret: env:TOOL_SAS_URL}
              filePath: tools
"""
OUTPUTS = """\
            outputFiles:
              - filePattern: "*.log"
                destination: {container: {containerUrl: {secret: env:OUTPUT_SAS_URL}}}
                uploadOptions: {uploadCondition: taskCompletion}
"""


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    stacks = copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TOOL_SAS_URL", URL)
    monkeypatch.setenv("OUTPUT_SAS_URL", URL.replace("input/tool.sh", "output"))
    path = stacks / "quickstart.yaml"
    text = path.read_text()
    text = text.replace("targetDedicatedNodes: 1", "targetDedicatedNodes: 0")  # no node runs the start task
    text = text.replace("        taskSlotsPerNode: 2", START_TASK + "        taskSlotsPerNode: 2")
    text = text.replace('            commandLine: /bin/bash -c "echo hello from $(hostname)"\n',
                        '            commandLine: /bin/bash -c "echo hello from $(hostname)"\n' + OUTPUTS)
    assert text.count("{secret: env:") == 3
    path.write_text(text)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_secret_sas_urls_apply_compare_by_value_and_never_show(stack, capsys, monkeypatch):
    code, out = run(capsys, "validate", str(stack))
    assert code == 0, out
    code, out = run(capsys, "apply", str(stack), "--target", "local", "--auto-approve")
    assert code == 0, out
    assert SIGNATURE not in out
    for fmt in ("text", "json", "markdown"):
        code, out = run(capsys, "plan", str(stack), "--target", "local", "--format", fmt, "--detailed-exitcode")
        assert code == 0, out  # the secret equals what Azure returns: no phantom diff
        assert SIGNATURE not in out
    monkeypatch.setenv("TOOL_SAS_URL", URL.replace(SIGNATURE, "cm90YXRlZA"))  # the SAS is rotated
    code, out = run(capsys, "plan", str(stack), "--target", "local", "--format", "json", "--detailed-exitcode")
    assert code == 2, out
    assert SIGNATURE not in out and "cm90YXRlZA" not in out
    [change] = [c for c in json.loads(out)["changes"] if c["action"] != "no-op"]
    assert change["address"] == "batchAccounts.main.pools.small"
    shown = json.dumps(change)
    assert "(sensitive)" in shown and "sig=(sensitive)" in shown  # the live URL's signature is redacted too


def test_a_literal_sas_url_is_an_error_naming_the_field(stack, capsys):
    text = stack.read_text().replace("httpUrl: {secret: env:TOOL_SAS_URL}", f"httpUrl: {URL}")
    stack.write_text(text)
    code, out = run(capsys, "validate", str(stack))
    assert code == 1
    line = text.splitlines().index(f"            - httpUrl: {URL}") + 1
    assert f"{stack}:{line}:" in out and "httpUrl holds a SAS token (sig=) in clear" in out
    assert out.count("error:") == 1
