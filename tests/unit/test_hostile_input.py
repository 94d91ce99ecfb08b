"""Hostile input and environments (issue 10): every one gets a one-line error, exit 1, never a
traceback or "internal error". Each case is a reproduction from the robustness pass."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from deployer.cli import main
from deployer.errors import StackError
from deployer.stack.loader import load_yaml_text
from tests.unit.stacks import BASE, mutate, validate_text


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err, captured.err
    return code, captured.out, captured.err


def first(diagnostics):
    assert diagnostics, "expected a diagnostic"
    return diagnostics[0]


# --- numbers ---------------------------------------------------------------------------------------


def test_integer_of_4301_digits_is_an_error_at_its_place(tmp_path):
    d = first(validate_text(tmp_path, mutate("taskSlotsPerNode: 2", "taskSlotsPerNode: " + "9" * 4301)))
    assert (d.line, d.column) == (31, 27)
    assert "4,301 digits is too large" in d.message


@pytest.mark.parametrize("literal", ["0x" + "f" * 5000, "-" + "1" * 41, "0o" + "7" * 100])
def test_huge_integers_in_every_notation(literal):
    with pytest.raises(StackError) as info:
        load_yaml_text(f"a: {literal}\n", "s.yaml")
    assert (info.value.diagnostics[0].line, info.value.diagnostics[0].column) == (1, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1e3", 1000.0),  # YAML 1.2 core: a float (YAML 1.1, and PyYAML, say a string)
        ("a: -2.5E-3", -0.0025),
        ("a: 1.0e3", 1000.0),
        ("a: &x 1e3\nb: *x", 1000.0),
        ("a: 0o17", 15),
        ("a: !!str 1e3", "1e3"),  # an explicit tag still wins
        ("a: '1e3'", "1e3"),
        ("a: 1e3x", "1e3x"),
    ],
)
def test_numbers_follow_yaml_1_2_core(text, expected):
    assert load_yaml_text(text, "s.yaml").data["a"] == expected


# --- nesting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [500, 999])
@pytest.mark.parametrize("shape", ["flow-seq", "flow-map", "block-seq"])
def test_deep_nesting_is_an_error_with_a_position(tmp_path, depth, shape):
    if shape == "flow-seq":
        extra = "x: " + "[" * depth + "]" * depth + "\n"
    elif shape == "flow-map":
        extra = "x: " + "{a: " * depth + "1" + "}" * depth + "\n"
    else:
        extra = "x:\n  " + "- " * depth + "1\n"
    d = first(validate_text(tmp_path, BASE + extra))
    assert d.line == BASE.count("\n") + (2 if shape == "block-seq" else 1) and d.column > 1
    assert "levels deep" in d.message


def test_deep_aliases_are_measured_without_recursion():
    text = "a: &a [1]\n" + "".join(f"a{i}: &a{i} [*{'a' if i == 0 else f'a{i - 1}'}]\n" for i in range(30))
    assert load_yaml_text(text, "s.yaml").data["a29"] is not None


# --- characters and encodings ---------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
def test_control_characters_have_a_line_and_column(tmp_path, char):
    d = first(validate_text(tmp_path, mutate("commandLine: echo one", f"commandLine: echo {char}one")))
    assert (d.line, d.column) == (37, 31)
    assert f"U+{ord(char):04X}" in d.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_file_says_so(tmp_path, encoding):
    d = first(validate_text(tmp_path, BASE.encode(encoding)))
    assert "UTF-16" in d.message and "save it as UTF-8" in d.message
    assert (d.line, d.column) == (1, 1)


def test_invalid_utf8_column_counts_characters(tmp_path):
    d = first(validate_text(tmp_path, "stack: démo\nnote: é".encode() + b"\xe9\n"))
    assert (d.line, d.column) == (2, 8)


# --- unbounded reads --------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["validate", "/dev/zero"], ["validate", "{stack}", "--var-file", "/dev/zero"],
                                  ["render", "/dev/zero"]])
def test_endless_inputs_are_refused_after_the_limit(tmp_path, capsys, argv):
    stack = tmp_path / "stack.yaml"
    stack.write_text(BASE, encoding="utf-8")
    code, _, err = run([a.format(stack=stack) for a in argv], capsys)
    assert code == 1
    assert "/dev/zero: error: more than 8 MB to read" in err
    assert ("variable file" in err) == ("--var-file" in argv)


def test_a_pipe_as_the_stack_is_bounded(tmp_path, capsys):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    import threading

    def feed() -> None:
        try:
            with open(fifo, "wb") as handle:
                chunk = b"# " + b"x" * 65533 + b"\n"
                for _ in range(200):  # 13 MB, more than the limit
                    handle.write(chunk)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed)
    writer.start()
    code, _, err = run(["validate", str(fifo)], capsys)
    writer.join(timeout=10)
    assert code == 1 and "more than 8 MB to read" in err


# --- file names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a[", "[bold]x", "x[/]", "[red"])
def test_file_names_are_printed_as_written(tmp_path, capsys, name):
    folder = tmp_path / name
    folder.mkdir(parents=True)
    stack = folder / "b].yaml"  # the path holds `[x/b]`-like text rich would read as markup
    stack.write_text(mutate("pool: p1", "pool: p2"), encoding="utf-8")
    code, out, err = run(["validate", str(stack)], capsys)
    assert code == 1
    assert f"{stack}:34:15: error: pool 'p2'" in err
    assert f"invalid {stack}: 1 error" in out
    good = folder / "ok.yaml"
    good.write_text(BASE, encoding="utf-8")
    code, out, _ = run(["validate", str(good)], capsys)
    assert code == 0 and f"ok {good}" in out


def test_an_error_message_with_markup_is_printed_as_written(capsys):
    from deployer.console import print_error

    print_error("stack [/b] and [bold]x")
    assert capsys.readouterr().err.strip() == "error: stack [/b] and [bold]x"


def test_application_file_name_too_long(tmp_path, capsys):
    text = mutate("    autoStorage: data\n", "    autoStorage: data\n    applications:\n      a:\n        versions:\n"
                  "          '1': {file: " + "z" * 300 + ".zip}\n")
    stack = tmp_path / "stack.yaml"
    stack.write_text(text, encoding="utf-8")
    code, _, err = run(["validate", str(stack)], capsys)
    assert code == 1
    assert f"{stack}:25:23: error: application package file" in err and "name too long" in err


@pytest.mark.parametrize("file", ["/dev/zero", "."])
def test_application_file_must_be_a_regular_file(tmp_path, capsys, file):
    text = mutate("    autoStorage: data\n", "    autoStorage: data\n    applications:\n      a:\n        versions:\n"
                  f"          '1': {{file: {file}}}\n")
    stack = tmp_path / "stack.yaml"
    stack.write_text(text, encoding="utf-8")
    code, _, err = run(["validate", str(stack)], capsys)
    assert code == 1 and f"{stack}:25:23: error: application package file" in err


# --- environment ----------------------------------------------------------------------------------


def _local_plan(tmp_path: Path, capsys, monkeypatch, local_dir: str) -> tuple[int, str]:
    stack = tmp_path / "stack.yaml"
    stack.write_text(BASE, encoding="utf-8")
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", local_dir)
    code, _, err = run(["plan", str(stack)], capsys)
    return code, err


def test_local_dir_is_a_file(tmp_path, capsys, monkeypatch):
    file = tmp_path / "state"
    file.write_text("x")
    code, err = _local_plan(tmp_path, capsys, monkeypatch, str(file))
    assert code == 1
    assert err.strip().startswith(f"error: DEPLOY_LOCAL_DIR {file}") and "not a folder" in err


@pytest.mark.parametrize("where", ["/proc/deployer-test", "{file}/below"])
def test_local_dir_cannot_be_created(tmp_path, capsys, monkeypatch, where):
    file = tmp_path / "state"
    file.write_text("x")
    code, err = _local_plan(tmp_path, capsys, monkeypatch, where.format(file=file))
    assert code == 1
    assert "error: DEPLOY_LOCAL_DIR" in err and "cannot create" in err and len(err.strip().splitlines()) == 1


def test_stdin_closed_without_auto_approve(tmp_path, capsys, monkeypatch):
    stack = tmp_path / "stack.yaml"
    stack.write_text(BASE, encoding="utf-8")
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setattr("sys.stdin", None)
    code, _, err = run(["apply", str(stack)], capsys)
    assert code == 1
    assert "pass --auto-approve" in err


class _Broken:
    """A stdout whose writes fail the way a full disk or a closed pipe makes them fail."""

    def __init__(self, error: OSError) -> None:
        self.error = error

    def write(self, text: str) -> int:
        raise self.error

    def flush(self) -> None:
        raise self.error

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("no fileno")


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (OSError(28, "No space left on device"), 1, "error: cannot write the output: No space left on device"),
        (BrokenPipeError(32, "Broken pipe"), 1, ""),
    ],
)
def test_stdout_fails(tmp_path, capsys, monkeypatch, error, code, message):
    monkeypatch.setattr("sys.stderr", sys.stderr)  # click wraps both streams after EPIPE: restore them
    monkeypatch.setattr("sys.stdout", _Broken(error))
    assert main(["schema"]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert err.strip() == message


def test_emoji_codes_in_user_text_are_printed_as_written(capsys):
    from deployer.console import print_error

    print_error("stack x:smile:y.yaml")
    assert capsys.readouterr().err.strip() == "error: stack x:smile:y.yaml"


# --- integer fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "position", "message"),
    [
        ("taskSlotsPerNode: 2", "taskSlotsPerNode: 2.0", (31, 27), "2.0 is a decimal number, but this field takes an "
         "integer: write 2"),
        ("taskSlotsPerNode: 2", "taskSlotsPerNode: !!float '1e+308'", (31, 27), "1e+308 is out of range"),
        ("taskSlotsPerNode: 2", "taskSlotsPerNode: 1e3", (31, 27), "write 1000"),
        ("{targetDedicatedNodes: 1}", "{targetDedicatedNodes: 2147483648}", (30, 46),
         "2,147,483,648 is out of range: Azure stores this field as a 32-bit integer"),
        ("{targetDedicatedNodes: 1}", "{targetDedicatedNodes: .nan}", (30, 46), "nan is not a number Azure can store"),
        ("{quotaGiB: 10}", "{quotaGiB: 10.5}", (11, 27), "10.5 is not a whole number"),
    ],
)
def test_integer_fields_take_integers_azure_can_store(tmp_path, old, new, position, message):
    found = validate_text(tmp_path, mutate(old, new))
    assert any((d.line, d.column) == position and message in d.message for d in found), found


def test_the_largest_int32_is_fine(tmp_path):
    found = validate_text(tmp_path, mutate("{targetDedicatedNodes: 1}", "{targetDedicatedNodes: 2147483647}"))
    assert not any("out of range" in d.message or "integer" in d.message for d in found), found


def test_apply_refuses_a_device_or_pipe(tmp_path, capsys):
    code, _, err = run(["apply", "/dev/zero", "--auto-approve"], capsys)
    assert code == 1 and "/dev/zero: not a regular file" in err


def test_a_saved_plan_is_read_with_a_bound(tmp_path, capsys, monkeypatch):
    from deployer.apply import engine

    plan = tmp_path / "plan.json"
    plan.write_text('{"stackFile": "x.yaml", "stackSha256": "' + "0" * 5000 + '"}', encoding="utf-8")
    monkeypatch.setattr(engine, "MAX_PLAN_BYTES", 1000)
    code, _, err = run(["apply", str(plan), "--auto-approve"], capsys)
    assert code == 1 and "cannot read the saved plan" in err and "limit for a saved plan" in err


def test_a_deeply_nested_saved_plan_is_an_error(tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text("[" * 100000 + "]" * 100000, encoding="utf-8")
    code, _, err = run(["apply", str(plan), "--auto-approve"], capsys)
    assert code == 1 and "cannot read the saved plan" in err


@pytest.mark.parametrize(("raw", "shown"), [("a\x1b[31mb", "a\\x1b[31mb"), ("a\u202eb", "a\\u202eb"),
                                             ("a\nb", "a\\x0ab"), ("a\x1eb", "a\\x1eb"), ("a\udcffb", "a\\udcffb")])
def test_diagnostics_show_control_characters_as_escapes(capsys, raw, shown):
    from deployer.console import print_diagnostics
    from deployer.errors import Diagnostic

    print_diagnostics([Diagnostic(f"f{raw}.yaml", 1, 2, f"unknown key {raw}", "x")])
    assert capsys.readouterr().err == f"f{shown}.yaml:1:2: error: unknown key {shown} (at x)\n"


def test_a_key_with_a_control_character_is_reported_on_one_line(tmp_path, capsys):
    stack = tmp_path / "stack.yaml"
    stack.write_text(BASE.replace("target:\n", 'target:\n  "\\x1e": 1\n'), encoding="utf-8")
    code, _, err = run(["validate", str(stack)], capsys)
    assert code == 1 and len(err.splitlines()) == 1 and "\\x1e" in err, err
