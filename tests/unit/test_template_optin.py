"""Templates that do not bite: only `*.j2` stacks are rendered, YAML comments never render,
template errors say "template" and how to write a literal `{{`, and misspelt names get a
"did you mean"."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.stack.template.render import LITERAL_HINT, protect_comments
from tests.unit.stacks import BASE, mutate, validate_text

BASH = "            commandLine: /bin/bash -c 'f=(*.mp4); echo ${#f[@]}; docker ps --format \"{{.ID}}\"'\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_plain_stack_is_never_rendered_so_bash_and_docker_syntax_is_text(repo):
    text = mutate("            commandLine: echo one\n", BASH)
    assert validate_text(repo, text) == []


def test_the_same_text_in_a_template_is_a_template_error_that_says_how_to_write_it(repo):
    text = mutate("            commandLine: echo one\n", BASH)
    [found] = validate_text(repo, text, "stack.yaml.j2")
    assert found.message.startswith("template syntax error: ")
    assert found.message.endswith(LITERAL_HINT)
    assert "{{ '{{' }}" in found.message and "{% raw %}" in found.message
    fixed = text.replace("{{.ID}}", "{{ '{{' }}.ID{{ '}}' }}").replace("${#f[@]}", "{% raw %}${#f[@]}{% endraw %}")
    assert validate_text(repo, fixed, "stack.yaml.j2") == []


@pytest.mark.parametrize("comment", [
    "# ${{f%.*}} strips the extension",
    "# bash: ${#files[@]} counts them",
    "# docker ps --format '{{.ID}}'",
    "# {% if %} is not a tag here",
])
def test_yaml_comments_never_render(repo, comment):
    text = mutate("stack: demo\n", f"stack: demo  {comment}\n{comment}\n")
    text = mutate("vmSize: Standard_D2s_v3", "vmSize: {{ 'Standard_D2s_v3' }}", text)
    assert validate_text(repo, text, "stack.yaml.j2") == []


def test_block_scalars_are_values_and_render():
    text = "a: |\n  # {{ 1 + 1 }}\n  echo\nb: x  # {{ 3 }}\n"
    assert protect_comments(text) == "a: |\n  # {{ 1 + 1 }}\n  echo\nb: x  {% raw %}# {{ 3 }}{% endraw %}\n"


def test_a_hash_inside_quotes_or_tags_is_no_comment():
    text = "a: \"x # {{ 1 }}\"\nb: '{{ \"#\" }}'\nc: {{ '#' }}\n"
    assert protect_comments(text) == text


def test_template_syntax_in_a_plain_stack_gets_a_warning_naming_the_fix(repo):
    text = mutate("name: bademo01", "name: ba{{ vars.env }}")
    found = validate_text(repo, text)
    warnings = [d for d in found if d.severity == "warning"]
    assert len(warnings) == 1
    assert "only stacks named *.j2 are rendered (rename it to stack.yaml.j2)" in warnings[0].message
    assert warnings[0].line == text.splitlines().index("    name: ba{{ vars.env }}") + 1


def test_a_misspelt_variable_suggests_the_close_one(repo):
    text = mutate("stack: demo\n", "stack: demo\nvars:\n  vm_size: Standard_D2s_v3\n",
                  mutate("vmSize: Standard_D2s_v3", "vmSize: {{ vars.vmsize }}"))
    [found] = validate_text(repo, text, "stack.yaml.j2")
    assert found.message.startswith("undefined variable vars.vmsize: did you mean vars.vm_size?")
    bare = text.replace("vars.vmsize", "vm_size")
    [found] = validate_text(repo, bare, "stack.yaml.j2")
    assert found.message == "template error: 'vm_size' is undefined; did you mean vars.vm_size?"


def test_a_misspelt_preset_macro_suggests_the_macro(repo):
    (repo / "templates").mkdir()
    (repo / "templates" / "autoscale.j2").write_text(
        "{% macro pending_tasks(cap) %}{\"autoScale\": {\"formula\": \"$TargetDedicatedNodes = {{ cap }};\"}}"
        "{% endmacro %}\n", encoding="utf-8")
    text = "{% import 'autoscale.j2' as autoscale %}\n" + mutate(
        "          fixedScale: {targetDedicatedNodes: 1}\n", "", mutate(
            "        scaleSettings:\n", "        scaleSettings: {{ autoscale.pending_task(3) }}\n"))
    [found] = validate_text(repo, text, "stack.yaml.j2")
    assert "the imported template has no macro 'pending_task'; did you mean 'pending_tasks'?" in found.message
    assert "TemplateModule" not in found.message


def test_base_stack_is_unchanged_by_the_comment_protection():
    assert protect_comments(BASE) == BASE


def test_raw_blocks_and_template_comments_are_left_alone():
    text = "{% raw %}\n# {{ a }}\n{% endraw %}\n{# a\n # b #}\nc: 1  # {{ d }}\n"
    assert protect_comments(text) == ("{% raw %}\n# {{ a }}\n{% endraw %}\n{# a\n # b #}\n"
                                      "c: 1  {% raw %}# {{ d }}{% endraw %}\n")


def test_a_comment_that_opens_a_template_comment_is_still_a_yaml_comment():
    text = "a: 1  # ${#files[@]}\n# ${#x}\nb: 2\n"
    assert protect_comments(text) == ("a: 1  {% raw %}# ${#files[@]}{% endraw %}\n{% raw %}# ${#x}{% endraw %}\n"
                                      "b: 2\n")
