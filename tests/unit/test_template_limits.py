"""Every way a template can build a string or a list is bounded before the memory is spent, and
the error points at the line that was rendering (issue 10: `'x'.center(10**9)` and
`'%9999999999s'|format('x')` took 3–9 GB before anything stopped them; an oversized render was
reported at line 1:1)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from deployer.errors import StackError
from deployer.stack.template import render_stack_text


def render_errors(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    try:
        render_stack_text(text, "s.yaml.j2", tmp_path)
    except StackError as exc:
        return [d.format() for d in exc.diagnostics]
    return []


HOSTILE = [
    "{{ 'x'.center(10**8) }}",
    "{{ 'x'.ljust(10**8) }}",
    "{{ 'x'.rjust(10**8) }}",
    "{{ 'x'.zfill(10**8) }}",
    "{{ ('\t' * 100).expandtabs(10**6) }}",
    "{{ ('x' * 1000).replace('', 'y' * 100000) }}",
    "{{ ('x' * 10000).replace('x', 'y' * 10000) }}",
    "{{ ('y' * 10000).join(['x'] * 10000) }}",
    "{{ '{:>100000000}'.format('x') }}",
    "{{ '{:{}}'.format('x', 10**8) }}",
    "{{ '{:.100000000f}'.format(1.5) }}",
    "{{ '%100000000s' % 'x' }}",
    "{{ '%.100000000f' % 1.5 }}",
    "{{ '%*s' % (10**8, 'x') }}",
    "{{ '%100000000s'|format('x') }}",
    "{{ 'x'|center(10**8) }}",
    "{{ ('a\\n' * 10000)|indent(100000) }}",
    "{{ ('a\\n' * 10000)|indent('x' * 100000) }}",
    "{{ ('a ' * 10000)|wordwrap(1, wrapstring='y' * 100000) }}",
    "{{ (['x'] * 10000)|join('y' * 100000) }}",
    "{{ ('x' * 10000)|replace('x', 'y' * 10000) }}",
    "{{ [1]|batch(10**8, 'x')|list }}",
    "{{ [1]|slice(10**8)|list }}",
    "{{ {'a': [1, [2]]}|tojson(indent=10**8) }}",
    "{{ lipsum(10**6) }}",
    "{% set ns = namespace(s='x' * 1000000) %}{% for i in range(10) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
    "{{ ns.s|length }}",
    "{% set ns = namespace(s='x' * 1000000) %}{% for i in range(10) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"
    "{{ ns.s|length }}",
    "{% set ns = namespace(s=[1] * 1000000) %}{% for i in range(10) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"
    "{{ ns.s|length }}",
    "{% set ns = namespace(n=10**1000) %}{% for i in range(10) %}{% set ns.n = ns.n * ns.n %}{% endfor %}"
    "{{ ns.n > 0 }}",
]


@pytest.mark.parametrize("expression", HOSTILE)
def test_builders_are_bounded_and_reported_at_their_line(tmp_path, expression):
    tracemalloc.start()
    try:
        found = render_errors(tmp_path, f"stack: demo\nvalue: 1\nv: \"{expression}\"\nafter: 2\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(found) == 1, found
    assert found[0].startswith("s.yaml.j2:3:"), found
    assert "error: template error:" in found[0]
    assert peak < 128 * 1024 * 1024, f"{peak / 1e6:.0f} MB spent before the limit stopped it"


@pytest.mark.parametrize(
    ("expression", "rendered"),
    [
        ("{{ 'x'.center(5) }}", "  x  "),
        ("{{ '%5s'|format('x') }}", "    x"),
        ("{{ '%-3d|' % 7 }}", "7  |"),
        ("{{ '{:>4}'.format('x') }}", "   x"),
        ("{{ ', '.join(['a', 'b']) }}", "a, b"),
        ("{{ ['a', 'b']|join('-') }}", "a-b"),
        ("{{ 'a-b'|replace('-', '+') }}", "a+b"),
        ("{{ 'a' ~ 1 ~ 'b' }}", "a1b"),
        ("{{ 'ab' + 'cd' }}", "abcd"),
        ("{{ [1, 2, 3]|batch(2, 0)|list }}", "[[1, 2], [3, 0]]"),
        ("{{ 6 * 7 }}", "42"),
    ],
)
def test_ordinary_use_is_unchanged(tmp_path, expression, rendered):
    (tmp_path / ".git").mkdir(exist_ok=True)
    out = render_stack_text(f"v: {expression}\n", "s.yaml.j2", tmp_path)
    assert out.text == f"v: {rendered}\n"


def test_an_oversized_render_points_at_the_line_that_was_rendering(tmp_path):
    text = ("stack: demo\nnote: 1\n"
            "{% for i in range(3000) %}{% set s = 'x' * 4000 %}\n"
            "big: {{ s }}{{ s }}\n"
            "{% endfor %}\n")
    found = render_errors(tmp_path, text)
    assert len(found) == 1 and found[0].startswith("s.yaml.j2:4:"), found
    assert "over 8 MB" in found[0]


def test_an_oversized_first_line_is_not_reported_at_1_1(tmp_path):
    text = "a: {{ 'x' * 5000000 }}{{ 'y' * 5000000 }}\nb: 1\n"
    found = render_errors(tmp_path, text)
    assert len(found) == 1 and found[0].startswith("s.yaml.j2:1:4:"), found
