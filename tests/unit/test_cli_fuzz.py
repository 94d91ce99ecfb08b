"""Property-based, through the command line: whatever a stack file holds, `deploy validate` exits
0 or 1 with one-line diagnostics, never a traceback or an "internal error" (issue 10).

Each case writes a malformed stack and runs `main(["validate", FILE])` in this process (no
subprocess per case, so thousands of cases take seconds). Cases come from five generators:
structural mutations of a valid stack, hostile scalars at any place in it, deep nesting, huge
numbers and template syntax, and bytes in other encodings.

The profile is derandomized (a fixed seed derived from each test) so CI runs the same cases every
time; FUZZ_SCALE=10 runs ten times as many, with the same reproducibility.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployer.cli import main
from tests.unit.stacks import BASE

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def profile(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz")
    (path / ".git").mkdir()  # templates/ is not looked for above this folder
    return path


FILE = "fuzz.yaml"
DIAGNOSTIC = re.compile(r"^(?P<file>[^\n]+?):\d+:\d+: (?:error|warning): \S")


def validate(folder: Path, content: str | bytes) -> None:
    """Run `deploy validate` on `content` and check the contract of its answer."""
    path = folder / FILE
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8", "surrogatepass"))
    else:
        path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path)])
    errors = err.getvalue()
    assert code in (0, 1), (code, errors)
    assert "Traceback" not in errors and "internal error" not in errors, errors
    for line in errors.splitlines():
        match = DIAGNOSTIC.match(line)
        assert match and match.group("file") == str(path), f"not a one-line diagnostic: {line!r}"
    assert (code == 0) == (f"ok {path}" in out.getvalue()), (code, out.getvalue(), errors)


# --- values a user (or an attacker) can put anywhere ------------------------------------------------

HOSTILE_TEXT = [
    "\x00", "\x07", "\x1b[31m", "\x7f", "\u2028", "\ufeff", "\ud800", "\U0001f600", "\t", "\r", "\\", "'", '"',
    "[", "]", "{", "}", "[/b]", "[bold]", ":smile:", "&a", "*a", "!!python/object:os.system", "!x", "<<", "? ",
    "- ", "---", "...", "#", "%YAML 1.1", "|", ">", "@", "`", "{{", "}}", "{%", "%}", "{#", "#}",
    "{{ vars.nope }}", "{{ env.NOPE }}", "{{ 'x'.center(10**9) }}", "{{ '%9999999999s'|format('x') }}",
    "{{ 'x' * 10**9 }}", "{{ 10 ** 10**8 }}", "{{ ''.__class__ }}", "{% include '/etc/passwd' %}",
    "{% include '../x' %}", "{% for i in range(10) %}", "{% endfor %}", "{{ fail('no') }}", "{{ (1/0) }}",
    "{{ [1]|batch(10**9, 0)|list }}", "{{ lipsum(10**6) }}", "{{ 'a' ~ 'b' }}", "{{ x }", "{{ 1 +",
]
HOSTILE_NUMBERS = [
    "9" * 4301, "-" + "9" * 5000, "0x" + "f" * 3000, "0o" + "7" * 3000, "1e309", "-1e309", "1e-400", ".nan",
    ".inf", "-.inf", "2.0", "2.5", "-0.0", "1e3", "0", "-1", "2147483648", "9223372036854775808",
    "!!float '1e+308'", "!!int '1'", "!!int 'x'", "!!str 12", "!!binary aGk=", "!!set {a}", "!!omap [a: 1]",
    "00:15:00", "yes", "on", "~", "null", "true", "0777", "1_000", "+12", "12e", ".5", "190:20:30",
]
scalar_text = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HOSTILE_NUMBERS),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=16),
    st.text(st.characters(max_codepoint=0x7F), max_size=16),
    st.integers(min_value=1, max_value=200_000).map(lambda n: "x" * n),
)


def _places(text: str) -> list[tuple[int, int]]:
    """(start, end) of every value after `: ` or `- ` in the text: where a scalar can be swapped."""
    return [(m.start(1), m.end(1)) for m in re.finditer(r"(?:: |- )([^\n{}\[\],]*)", text)]


PLACES = _places(BASE)


@profile(600)
@given(place=st.sampled_from(PLACES), value=scalar_text, quote=st.sampled_from(["", "'", '"']))
def test_hostile_scalars(folder, place, value, quote):
    start, end = place
    validate(folder, BASE[:start] + quote + value + quote + BASE[end:])


# --- structure -------------------------------------------------------------------------------------


@profile(500)
@given(data=st.data())
def test_structural_mutations(folder, data):
    lines = BASE.splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        operation = data.draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "insert", "cut"]))
        if operation == "delete" and len(lines) > 1:
            del lines[i]
        elif operation == "duplicate":
            lines.insert(i, lines[i])
        elif operation == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif operation == "indent":
            lines[i] = " " * data.draw(st.integers(1, 5)) + lines[i]
        elif operation == "dedent":
            lines[i] = lines[i].lstrip()
        elif operation == "insert":
            at = data.draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + data.draw(st.sampled_from(HOSTILE_TEXT)) + lines[i][at:]
        elif operation == "cut":
            lines[i] = lines[i][: data.draw(st.integers(0, len(lines[i])))]
    validate(folder, "\n".join(lines) + data.draw(st.sampled_from(["\n", "", "\r\n", "\n\n\n"])))


def _data_paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _data_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _data_paths(child, (*prefix, index))


DOCUMENT_PATHS = [p for p in _data_paths(yaml.safe_load(BASE)) if p]
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
              st.sampled_from(HOSTILE_TEXT)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@profile(400)
@given(target=st.sampled_from(DOCUMENT_PATHS), replacement=values)
def test_values_of_other_types(folder, target, replacement):
    document = yaml.safe_load(BASE)
    parent = document
    for part in target[:-1]:
        parent = parent[part]
    parent[target[-1]] = replacement
    validate(folder, yaml.safe_dump(document, allow_unicode=True))


# --- nesting and numbers ---------------------------------------------------------------------------


@profile(250)
@given(depth=st.one_of(st.integers(1, 80), st.integers(480, 1100)),
       shape=st.sampled_from(["seq", "map", "block", "mixed"]),
       place=st.sampled_from(["top", "pool", "vars", "metadata"]))
def test_deep_nesting(folder, depth, shape, place):
    if shape == "seq":
        value = "[" * depth + "1" + "]" * depth
    elif shape == "map":
        value = "{a: " * depth + "1" + "}" * depth
    elif shape == "mixed":
        value = "[{a: " * (depth // 2) + "1" + "}]" * (depth // 2)
    else:
        value = "\n" + "".join("  " * (i + 1) + "- \n" if i < depth - 1 else "  " * (i + 1) + "- 1\n"
                               for i in range(min(depth, 300)))
    if place == "top":
        text = BASE + f"x: {value}\n"
    elif place == "vars":
        text = BASE.replace("stack: demo\n", f"stack: demo\nvars:\n  deep: {value}\n")
    elif place == "metadata":
        text = BASE.replace("        taskSlotsPerNode: 2\n",
                            f"        taskSlotsPerNode: 2\n        metadata: {value}\n")
    else:
        text = BASE.replace("        taskSlotsPerNode: 2\n", f"        taskSlotsPerNode: {value}\n")
    validate(folder, text)


# --- templates -------------------------------------------------------------------------------------

TEMPLATE_PIECES = st.sampled_from([
    "{{ vars.n }}", "{{ vars.n * 2 }}", "{{ vars.n ** 100 }}", "{{ 'a' * vars.n }}", "{% if vars.n %}",
    "{% endif %}", "{% for i in range(vars.n) %}", "{% endfor %}", "{% set x = 1 %}", "{{ x }}", "{# c #}",
    "{% raw %}", "{% endraw %}", "{{ '%5s'|format(1) }}", "{{ 'x'.center(vars.n * 1000000) }}",
    "{{ 'x'.ljust(10**9) }}", "{{ vars|tojson(indent=10**6) }}", "{{ ('a' ~ 'b') * vars.n }}",
    "{{ 'y'.join(['x'] * 100000) }}", "{{ [1]|slice(10**8)|list }}", "{{ range(10**9)|list }}",
    "{% macro m() %}{{ caller() }}{% endmacro %}", "{{ m() }}", "{% import 'nope.j2' as n %}",
    "{{ vars.n|int(1e400) }}", "{{ '9' * 5000|int }}", "{{ ('9' * 5000)|int }}", "{{ 1/0 }}",
    "{{ self }}", "{{ namespace(a=1).a }}", "{{ cycler(1, 2).next() }}", "{{ env }}", "{{ vars.items() }}",
    "{{ {}.__class__.__mro__ }}", "{{ lipsum(2) }}", "{% extends 'x' %}", "{% block b %}{% endblock %}",
    "\n", "\n  ", ":", "- ", "\t",
])


@profile(350)
@given(pieces=st.lists(st.tuples(st.integers(0, len(BASE)), TEMPLATE_PIECES), min_size=1, max_size=4),
       n=st.sampled_from(["3", "0", "-1", "100000", "'x'", "[1]", "{a: 1}", "1e3", "null"]))
def test_template_syntax(folder, pieces, n):
    text = BASE.replace("stack: demo\n", f"stack: demo\nvars:\n  n: {n}\n")
    for at, piece in sorted(pieces, reverse=True):
        at = min(at + len(f"vars:\n  n: {n}\n"), len(text))
        text = text[:at] + piece + text[at:]
    validate(folder, text)


# --- encodings ---------------------------------------------------------------------------------------


@profile(150)
@given(encoding=st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "utf-8-sig", "cp1252"]),
       junk=st.binary(max_size=8), at=st.integers(0, len(BASE)))
def test_other_encodings_and_bytes(folder, encoding, junk, at):
    text = BASE[:at] + "é" + BASE[at:]
    raw = text.encode(encoding, "replace")
    validate(folder, raw[:at] + junk + raw[at:])
