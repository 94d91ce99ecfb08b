"""Renderings: exact text for a small plan, colour only when asked, Markdown for pull requests,
JSON equal to the saved plan, and secrets as `(sensitive)` everywhere."""

from __future__ import annotations

import json
import re

from deployer.plan import Action, Change, FieldChange, Plan, PlanTarget, render_json, render_markdown, render_text
from deployer.stack.model import Address, Kind
from tests.unit.plan.test_model import sample_plan

TARGET = PlanTarget("azure", "sub", "rg-media", "westeurope")

EXPECTED_TEXT = """\
Plan for stack media on azure (rg-media, westeurope)

  # storageAccounts.data will be created
  # storage account stmedia does not exist yet
  + storage account stmedia
      + location: "westeurope"
      + sku: "Standard_LRS"
      + tags.env: "dev"

  # batchAccounts.main.pools.transcode will be updated in place
  # metadata differs from the stack
  ~ pool transcode
      ~ metadata.team: "a" -> "b"

  # batchAccounts.main.pools.gpu must be replaced
  # vmSize can change only while the pool has zero nodes
  # warning: 4 nodes and 7 running tasks affected
-/+ pool gpu
      ~ vmSize: "STANDARD_NC6" -> "Standard_NC12"  # forces replacement
      ~ userAccounts.alice.password: (sensitive)  # forces replacement

  # batchAccounts.main.pools.cpu will be drained, updated and scaled back
  # drained
  # warning: 2 nodes affected (running tasks not read)
  ~ pool cpu (drain)
      ~ taskSlotsPerNode: 1 -> 2  # only while the pool has zero nodes

  # storageAccounts.data.containers.old will be destroyed
  # container old is no longer in the stack
  # warning: all blobs in container old are lost
  - container old

  # batchAccounts.main.jobs.j will be updated in place
  # émigré ✓
  ~ job j
      ~ metadata.note: "naïve" -> "日本"
      + metadata["a.b"]: "x"

Plan: 1 to add, 3 to change, 1 to replace, 1 to destroy.
"""


def test_text_rendering_of_a_small_plan() -> None:
    assert render_text(sample_plan()) == EXPECTED_TEXT


def test_no_changes() -> None:
    plan = Plan("media", TARGET, (sample_plan().changes[5],))
    assert render_text(plan) == ("Plan for stack media on azure (rg-media, westeurope)\n\n"
                                 "No changes. Live state matches the stack.\n")
    markdown = render_markdown(plan)
    assert "**No changes. Live state matches the stack.**" in markdown and "<details>" not in markdown


def test_colour_only_when_asked() -> None:
    plain, coloured = render_text(sample_plan()), render_text(sample_plan(), color=True)
    assert "\x1b[" not in plain
    assert "\x1b[32m" in coloured and "\x1b[31m" in coloured and "\x1b[33m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def _change(fields: tuple[FieldChange, ...], action: Action = Action.UPDATE) -> Plan:
    change = Change(Address.parse("batchAccounts.main.pools.p"), Kind.POOL, action, "why", {}, {}, fields, name="p")
    return Plan("s", TARGET, (change,))


def test_multi_line_values_diff_by_line() -> None:
    before = "$a = 1;\n$TargetDedicatedNodes = $a;\n$NodeDeallocationOption = requeue;"
    after = "$a = 2;\n$TargetDedicatedNodes = $a;\n$NodeDeallocationOption = requeue;"
    text = render_text(_change((FieldChange("scaleSettings.autoScale.formula", before, after),)))
    assert ("      ~ scaleSettings.autoScale.formula:\n"
            "          - $a = 1;\n"
            "          + $a = 2;\n"
            "            $TargetDedicatedNodes = $a;\n"
            "            $NodeDeallocationOption = requeue;\n") in text


def test_removals_say_what_is_sent() -> None:
    text = render_text(_change((FieldChange("startTask", {"commandLine": "x"}, {}),
                                FieldChange("metadata.team", "a", None))))
    assert '      ~ startTask: {"commandLine": "x"} -> {}  # removed: sent as {}\n' in text
    assert '      - metadata.team: "a"\n' in text


def test_markers_read_as_they_are() -> None:
    text = render_text(_change((FieldChange("networkConfiguration.subnetId", "/a", "(known after apply)"),)))
    assert '~ networkConfiguration.subnetId: "/a" -> (known after apply)' in text


def test_sensitive_fields_never_show_a_value_whatever_they_hold() -> None:
    leaked = FieldChange("userAccounts.alice.password", "old-secret", "new-secret", sensitive=True)
    plan = _change((leaked,))
    for rendering in (render_text(plan), render_markdown(plan)):
        assert "(sensitive)" in rendering and "secret" not in rendering.replace("(sensitive)", "")


def test_json_rendering_is_the_saved_plan() -> None:
    text = render_json(sample_plan())
    assert text == sample_plan().to_json()
    assert json.loads(text)["summary"]["replace"] == 1
    assert Plan.from_json(text) == sample_plan()


def test_markdown_for_a_pull_request() -> None:
    markdown = render_markdown(sample_plan())
    lines = markdown.splitlines()
    assert lines[0] == "### Plan for stack `media` on `azure (rg-media, westeurope)`"
    assert "**Plan: 1 to add, 3 to change, 1 to replace, 1 to destroy.**" in lines
    assert "| | Resource | Action | Why |" in lines
    assert ("| `-/+` | `batchAccounts.main.pools.gpu` (pool gpu) | **replace** | vmSize can change only while "
            "the pool has zero nodes |") in lines
    assert "> - `storageAccounts.data.containers.old`: all blobs in container old are lost" in lines
    assert markdown.count("<details>") == markdown.count("</details>") == 6  # not the no-op
    assert "+ vmSize: \"Standard_NC12\"  # forces replacement" in lines
    assert "- userAccounts.alice.password: (sensitive)" in lines


def test_markdown_escapes_what_would_break_it() -> None:
    change = Change(Address.parse("batchAccounts.main.pools.p"), Kind.POOL, Action.UPDATE,
                    "a | b <script>alert(1)</script>", {}, {},
                    (FieldChange("startTask.commandLine", "echo ```x```", "echo ````y````"),), name="p")
    markdown = render_markdown(Plan("s", TARGET, (change,)))
    assert "a \\| b &lt;script&gt;" in markdown and "<script>" not in markdown
    fence = re.search(r"^(`{3,})diff$", markdown, re.M)
    assert fence and len(fence.group(1)) == 5  # longer than any run of backticks inside


def test_validation_warnings_render_in_text_markdown_and_json_and_survive_a_saved_plan() -> None:
    from dataclasses import replace as with_

    from deployer.errors import Diagnostic

    warning = Diagnostic("stack.yaml", 12, 9, "VM size 'Standard_X': Azure retires it soon", "a.b", "warning")
    plan = with_(Plan("demo", TARGET), validation=(warning,))
    assert "Warning: stack.yaml:12:9: VM size 'Standard_X': Azure retires it soon (at a.b)" in render_text(plan)
    markdown = render_markdown(plan)
    assert "> [!WARNING]" in markdown and "`stack.yaml:12:9`: VM size 'Standard_X': Azure retires it soon" in markdown
    data = json.loads(render_json(plan))
    assert data["validationWarnings"] == [warning.as_dict()]
    assert Plan.from_json(render_json(plan)).validation == (warning,)
