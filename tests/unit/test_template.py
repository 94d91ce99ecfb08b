"""Stack files as Jinja2 templates: variables and their precedence, the sandbox, and
diagnostics that keep pointing at the user's file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.cli import main
from deployer.errors import StackError, UsageError
from deployer.stack import template
from deployer.stack.loader import load_stack_file
from deployer.stack.model import load_stack
from deployer.stack.template import load_variables, render_stack_text
from deployer.stack.template.render import LITERAL_HINT
from deployer.stack.validate import validate_file
from tests.unit.stacks import BASE, mutate

# BASE with its pool's task slots and VM size templated and a vars: block (lines 2-4).
TEMPLATED = mutate("stack: demo\n", "stack: demo\nvars:\n  slots: 2\n  size: Standard_D2s_v3\n",
                   mutate("taskSlotsPerNode: 2", "taskSlotsPerNode: {{ vars.slots }}",
                          mutate("vmSize: Standard_D2s_v3", "vmSize: {{ vars.size }}")))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root (so templates/ is not looked for above it), as the working directory."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "stacks").mkdir()
    (tmp_path / "templates").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def render(repo: Path, text: str, variables: dict[str, object] | None = None) -> str:
    return render_stack_text(text, "stacks/s.yaml.j2", repo / "stacks", variables).text


def errors(repo: Path, text: str, variables: dict[str, object] | None = None) -> list[str]:
    path = write(repo / "stacks" / "s.yaml.j2", text)
    return [d.format() for d in validate_file(path, "stacks/s.yaml.j2", variables).diagnostics]


def pool(repo: Path, text: str, variables: dict[str, object] | None = None) -> dict[str, object]:
    path = write(repo / "stacks" / "s.yaml.j2", text)
    data = load_stack_file(path, "stacks/s.yaml.j2", variables).data
    return data["batchAccounts"]["main"]["pools"]["p1"]  # type: ignore[no-any-return]


# --- variables and precedence ----------------------------------------------------------------


def test_stack_vars_render_and_validate(repo):
    assert errors(repo, TEMPLATED) == []
    assert pool(repo, TEMPLATED)["taskSlotsPerNode"] == 2
    stack = load_stack(repo / "stacks" / "s.yaml.j2")
    assert stack.get("batchAccounts.main.pools.p1").spec["vmSize"] == "Standard_D2s_v3"


def test_variables_override_stack_vars(repo):
    assert pool(repo, TEMPLATED, {"slots": "4"})["taskSlotsPerNode"] == 4


def test_precedence_stack_vars_then_var_files_in_order_then_vars_in_order(repo):
    first = write(repo / "one.yaml", "a: file1\nb: file1\nc: file1\nd: file1\n")
    second = write(repo / "two.yaml", "b: file2\nc: file2\nd: file2\n")
    variables = load_variables([first, second], ["c=var1", "d=var1", "d=var2"])
    assert variables == {"a": "file1", "b": "file2", "c": "var1", "d": "var2"}
    text = "vars:\n  a: stack\n  e: stack\nx: {{ vars.a }} {{ vars.b }} {{ vars.c }} {{ vars.d }} {{ vars.e }}\n"
    assert render(repo, text, variables) == "vars:\n  a: stack\n  e: stack\nx: file1 file2 var1 var2 stack\n"


def test_var_value_keeps_equals_signs_and_var_files_keep_types(repo):
    values = write(repo / "v.yaml", "nodes: 3\nzones: [1, 2]\n")
    assert load_variables([values], ["formula=a=b"]) == {"nodes": 3, "zones": [1, 2], "formula": "a=b"}


def test_env_gives_named_variables(repo, monkeypatch):
    monkeypatch.setenv("DEPLOY_TEST_RG", "rg-from-env")
    assert render(repo, "x: {{ env.DEPLOY_TEST_RG }}\n") == "x: rg-from-env\n"


@pytest.mark.parametrize(("target", "rendered"), [(None, "x: local\n"), ("azure", "x: azure\n")])
def test_deploy_target_is_the_command_line_target(repo, target, rendered):
    text = "x: {{ deploy.target or 'local' }}\n"
    stack = repo / "stacks" / "s.yaml.j2"
    assert render_stack_text(text, str(stack), stack.parent, None, target).text == rendered


def test_validate_renders_for_the_target_it_is_given(repo, capsys):
    text = BASE.replace("  kind: local\n", "  kind: {{ deploy.target or 'somewhere' }}\n")
    path = write(repo / "stacks" / "s.yaml.j2", text)
    assert main(["validate", str(path)]) == 1  # no --target: `somewhere` is no target kind
    assert "somewhere" in capsys.readouterr().err
    assert main(["validate", str(path), "--target", "local"]) == 0, capsys.readouterr().err


def test_env_missing_variable_is_named(repo, monkeypatch):
    monkeypatch.delenv("DEPLOY_TEST_MISSING", raising=False)
    assert errors(repo, "stack: demo\nx: {{ env.DEPLOY_TEST_MISSING }}\n") == [
        "stacks/s.yaml.j2:2:7: error: environment variable DEPLOY_TEST_MISSING is not set "
        "(used as env.DEPLOY_TEST_MISSING)"
    ]


def test_env_cannot_be_listed(repo):
    assert "template error" in errors(repo, "x: {% for k in env %}{{ k }}{% endfor %}\n")[0]


def test_vars_block_must_not_use_template_syntax(repo):
    assert errors(repo, "stack: demo\nvars:\n  a: {{ 1 }}\n") == [
        "stacks/s.yaml.j2:2:1: error: the stack's vars: block must be plain YAML without template syntax "
        "({{ }}, {% %}, {# #}): it is read before the stack is rendered"
    ]


def test_vars_block_must_be_a_mapping(repo):
    assert errors(repo, "stack: demo\nvars: [1]\nx: {{ 1 }}\n") == [
        "stacks/s.yaml.j2:2:7: error: vars: must be a mapping of names to values, not a list (at vars)"
    ]


# --- the fast path ----------------------------------------------------------------------------


def test_file_without_template_syntax_is_not_rendered(repo, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("rendered a file with no template syntax")

    monkeypatch.setattr(template, "render_stack_text", boom)
    path = write(repo / "stacks" / "s.yaml.j2", BASE)
    doc = load_stack_file(path, "stacks/s.yaml.j2")
    assert doc.line_map is None
    assert validate_file(path, "stacks/s.yaml.j2").ok


def test_render_returns_plain_text_as_is(repo):
    rendered = render_stack_text(BASE, "s.yaml", repo, {"x": 1})
    assert rendered.text == BASE
    assert rendered.line_map is None


# --- template errors at the template's line ---------------------------------------------------


def test_undefined_variable_position(repo):
    text = mutate("taskSlotsPerNode: 2", "taskSlotsPerNode: {{ vars.slotz }}")
    assert errors(repo, text) == [
        "stacks/s.yaml.j2:31:30: error: undefined variable vars.slotz: set it under the stack's vars:, "
        "in a --var-file or with --var slotz=VALUE"
    ]


def test_undefined_plain_name_position(repo):
    assert errors(repo, "stack: demo\ntarget:\n  kind: {{ kind }}\n") == [
        "stacks/s.yaml.j2:3:12: error: template error: 'kind' is undefined"
    ]


def test_syntax_error_position(repo):
    text = mutate("    jobs:\n", "    jobs:\n{% if vars.x %}\n")
    (message,) = errors(repo, text)
    assert message.startswith("stacks/s.yaml.j2:")
    assert "template syntax error: Unexpected end of template" in message
    unclosed = errors(repo, "stack: demo\ntarget:\n  kind: {{ 1 + }}\n")
    assert unclosed == ["stacks/s.yaml.j2:3:9: error: template syntax error: unexpected 'end of print statement'"
                        + LITERAL_HINT]


# --- line map: schema errors in rendered text -------------------------------------------------


def test_schema_error_in_rendered_text_points_at_stack_line(repo):
    text = TEMPLATED.replace("taskSlotsPerNode: {{ vars.slots }}", "taskSlotsPerNode: {{ vars.slots }}x")
    assert errors(repo, text) == [
        "stacks/s.yaml.j2:34:27: error: expected an integer, got a string ('2x') "
        "(at batchAccounts.main.pools.p1.taskSlotsPerNode)"
    ]


def test_lines_after_a_loop_keep_their_stack_line(repo):
    loop = "{% for name in ['a', 'b', 'c'] %}\n      {{ name }}:\n        taskSlotsPerNode: 1\n{% endfor %}\n"
    text = mutate("        taskSlotsPerNode: 2\n", "        taskSlotsPerNode: 2\n" + loop)
    text = text.replace("pool: p1", "pool: p9")  # line 38 in the stack, 46 in the rendered text
    found = errors(repo, text)
    assert "stacks/s.yaml.j2:38:15: error: pool 'p9' is not defined in Batch account 'main'; did you mean 'p1'?" \
        in "\n".join(found)
    # the loop's pools lack required keys: reported once at the loop body's line, with the count
    assert "stacks/s.yaml.j2:34:9: error: missing required key 'vmSize' in pool 'a' (and 2 more times from this " \
        "template line, which a loop renders repeatedly) (at batchAccounts.main.pools.a)" in found
    assert not any("pool 'b'" in line for line in found)


def test_multiline_value_maps_to_its_expression_line(repo):
    text = "stack: demo\nx: |\n  {{ vars.body | indent(2) }}\ntarget: 12\n"
    rendered = render_stack_text(text, "s.yaml.j2", repo, {"body": "one\ntwo\nthree"})
    assert rendered.text == "stack: demo\nx: |\n  one\n  two\n  three\ntarget: 12\n"
    assert rendered.line_map is not None
    assert [rendered.line_map.locate(n)[1] for n in range(1, 7)] == [1, 2, 3, 3, 3, 4]


def test_yaml_error_in_rendered_text_points_at_stack_line(repo):
    plain = errors(repo, "stack: demo\ntarget: [\n")
    loop = "{% for i in range(5) %}\n# comment {{ i }}\n{% endfor %}\n"
    templated = errors(repo, loop + "stack: demo\ntarget: [\n")
    assert plain == ["stacks/s.yaml.j2:3:1: error: invalid YAML: while parsing a flow node: did not find expected "
                     "node content"]
    assert templated == [plain[0].replace(":3:1:", ":6:1:")]


# --- includes ---------------------------------------------------------------------------------

POOL_FRAGMENT = """\
vmSize: {{ size }}
deploymentConfiguration:
  virtualMachineConfiguration:
    imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}
    nodeAgentSkuId: batch.node.ubuntu 22.04
scaleSettings:
  fixedScale: {targetDedicatedNodes: 1}
taskSlotsPerNode: {{ slots }}
"""

POOL_IN_BASE = BASE[BASE.index("        vmSize:"): BASE.index("    jobs:")]


def include_stack(name: str) -> str:
    """BASE with pool p1's body included from `name`, indented under the pool."""
    return BASE.replace(
        POOL_IN_BASE, "{% filter indent(8, first=True) %}{% set size = 'Standard_D2s_v3' %}{% set slots = 2 %}"
        f"{{% include '{name}' %}}{{% endfilter %}}\n")


def test_include_from_templates_folder(repo):
    write(repo / "templates" / "pool.yaml", POOL_FRAGMENT)
    assert errors(repo, include_stack("pool.yaml")) == []
    assert pool(repo, include_stack("pool.yaml"))["taskSlotsPerNode"] == 2


def test_include_from_stack_folder_wins(repo):
    write(repo / "templates" / "pool.yaml", POOL_FRAGMENT)
    write(repo / "stacks" / "pool.yaml", POOL_FRAGMENT.replace("{{ slots }}", "3"))
    assert pool(repo, include_stack("pool.yaml"))["taskSlotsPerNode"] == 3


def test_include_from_subfolder(repo):
    write(repo / "templates" / "pools" / "linux.yaml", POOL_FRAGMENT)
    assert pool(repo, include_stack("pools/linux.yaml"))["vmSize"] == "Standard_D2s_v3"


def test_schema_error_inside_included_template_points_at_its_line(repo):
    write(repo / "templates" / "pool.yaml", POOL_FRAGMENT.replace("taskSlotsPerNode: {{ slots }}",
                                                                  "taskSlotsPerNode: {{ slots }}x"))
    assert errors(repo, include_stack("pool.yaml")) == [
        "templates/pool.yaml:8:27: error: expected an integer, got a string ('2x') "
        "(at batchAccounts.main.pools.p1.taskSlotsPerNode)"
    ]


def test_undefined_variable_inside_included_template(repo):
    write(repo / "templates" / "pool.yaml", "\n\nvmSize: {{ vars.poolsize }}\n")
    (message,) = errors(repo, "stack: demo\n{% include 'pool.yaml' %}\n")
    assert message.startswith("templates/pool.yaml:3:12: error: undefined variable vars.poolsize")


def test_syntax_error_inside_included_template(repo):
    write(repo / "templates" / "pool.yaml", "a: 1\nb: {% for %}\n")
    (message,) = errors(repo, "stack: demo\n{% include 'pool.yaml' %}\n")
    assert message.startswith("templates/pool.yaml:2:4: error: template syntax error:")


def test_import_macros_from_templates(repo):
    write(repo / "templates" / "macros.j2", "{% macro slots(n) %}{{ n * 2 }}{% endmacro %}")
    text = "{% import 'macros.j2' as m %}\nx: {{ m.slots(2) }}\n"
    assert render(repo, text) == "\nx: 4\n"


def test_missing_include_is_a_clear_error(repo):
    (message,) = errors(repo, "stack: demo\n{% include 'nope.yaml' %}\n")
    assert message == ("stacks/s.yaml.j2:2:1: error: template error: template 'nope.yaml' not found in "
                       "stacks or templates or the built-in presets")


# --- the sandbox ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("{{ ''.__class__.__mro__ }}", "template error: access to attribute '__class__' of 'str' object is unsafe."),
        ("{% include '/etc/passwd' %}", "template error: cannot include '/etc/passwd': only paths relative to "
         "the stack's folder or the templates/ folder may be included (no absolute paths, no '..')"),
        ("{% include '../../x' %}", "template error: cannot include '../../x': only paths relative to "
         "the stack's folder or the templates/ folder may be included (no absolute paths, no '..')"),
        ("{% include 'a/../../x' %}", "template error: cannot include 'a/../../x'"),
        ("{{ vars.update({'a': 1}) }}", "template error: "),
        ("{{ range(10**9) | list }}", "template error: Range too big."),
    ],
)
def test_sandbox_escapes_fail_cleanly(repo, expression, message):
    (found,) = errors(repo, f"stack: demo\nx: {expression}\n")
    assert found.startswith("stacks/s.yaml.j2:2:")
    assert message in found


def test_symlink_out_of_templates_is_refused(repo, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.yaml"
    outside.write_text("secret: 1\n", encoding="utf-8")
    (repo / "templates" / "link.yaml").symlink_to(outside)
    (message,) = errors(repo, "stack: demo\n{% include 'link.yaml' %}\n")
    assert "cannot include 'link.yaml': it resolves outside" in message


def test_cli_escape_is_not_a_traceback(repo, capsys):
    path = write(repo / "stacks" / "s.yaml.j2", "stack: demo\nx: {{ ''.__class__.__mro__ }}\n")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "unsafe" in err
    assert "Traceback" not in err


# --- bad variable input -----------------------------------------------------------------------


def test_var_file_not_a_mapping(repo):
    path = write(repo / "vars.yaml", "# values\n- a\n- b\n")
    with pytest.raises(StackError) as caught:
        load_variables([path])
    assert [d.format() for d in caught.value.diagnostics] == [
        f"{path}:2:1: error: a variable file must be a YAML mapping of names to values, not a list"
    ]


def test_var_file_scalar(repo):
    path = write(repo / "vars.yaml", "just text\n")
    with pytest.raises(StackError, match="not a str"):
        load_variables([path])


def test_var_file_missing(repo):
    with pytest.raises(StackError, match="no such file"):
        load_variables([repo / "absent.yaml"])


def test_var_file_invalid_yaml_has_position(repo):
    path = write(repo / "vars.yaml", "a: 1\nb: [\n")
    with pytest.raises(StackError) as caught:
        load_variables([path])
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.file == str(path)
    assert diagnostic.line >= 2


def test_empty_var_file_sets_nothing(repo):
    assert load_variables([write(repo / "vars.yaml", "# nothing yet\n")]) == {}


@pytest.mark.parametrize("assignment", ["novalue", "=x", "9a=1", "a b=1"])
def test_malformed_var(assignment):
    with pytest.raises(UsageError, match="expected NAME=VALUE"):
        load_variables([], [assignment])


# --- the command line -------------------------------------------------------------------------


def test_cli_validate_with_var(repo, capsys):
    path = write(repo / "stacks" / "s.yaml.j2", TEMPLATED.replace("  slots: 2\n", ""))
    assert main(["validate", str(path)]) == 1
    assert "undefined variable vars.slots" in capsys.readouterr().err
    assert main(["validate", str(path), "--var", "slots=2"]) == 0
    assert main(["validate", str(path), "--var", "slots=two"]) == 1
    assert f"{path}:33:27: error: expected an integer, got a string ('two')" in capsys.readouterr().err


def test_cli_validate_with_var_file_and_var_precedence(repo, capsys):
    path = write(repo / "stacks" / "s.yaml.j2", TEMPLATED)
    bad = write(repo / "bad.yaml", "slots: two\n")
    good = write(repo / "good.yaml", "slots: 3\n")
    assert main(["validate", str(path), "--var-file", str(bad)]) == 1
    assert main(["validate", str(path), "--var-file", str(bad), "--var-file", str(good)]) == 0
    assert main(["validate", str(path), "--var-file", str(good), "--var", "slots=x", "--var", "slots=1"]) == 0
    capsys.readouterr()


def test_cli_bad_var_input_exits_1(repo, capsys):
    path = write(repo / "stacks" / "s.yaml.j2", TEMPLATED)
    assert main(["validate", str(path), "--var", "slots"]) == 1
    assert "expected NAME=VALUE" in capsys.readouterr().err
    assert main(["validate", str(path), "--var-file", "absent.yaml"]) == 1
    assert "absent.yaml: error: no such file" in capsys.readouterr().err
    listing = write(repo / "list.yaml", "- 1\n")
    assert main(["validate", str(path), "--var-file", str(listing)]) == 1
    assert f"{listing}:1:1: error: a variable file must be a YAML mapping" in capsys.readouterr().err


def test_cli_render_prints_rendered_stack_and_keeps_secret_references(repo, capsys):
    text = TEMPLATED + "x: {secret: env:SMB_PASSWORD}\n"
    path = write(repo / "stacks" / "s.yaml.j2", text)
    assert main(["render", str(path), "--var", "slots=5"]) == 0
    out = capsys.readouterr().out
    assert "taskSlotsPerNode: 5\n" in out
    assert "vmSize: Standard_D2s_v3\n" in out
    assert "{secret: env:SMB_PASSWORD}" in out
    assert "\ue000" not in out


def test_cli_help_mentions_var_options(capsys):
    for command in ("validate", "plan", "apply", "destroy", "render"):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "--var-file" in out
        assert "--var " in out or "--var\n" in out or "--var TEXT" in out


# --- limits: a template cannot build more than a stack may hold -------------------------------


@pytest.mark.parametrize(("expression", "message"), [
    ("{{ 'x' * 10**9 }}", "`*` would build a value of 1,000,000,000 items"),
    ("{{ 10**9 * 'x' }}", "`*` would build a value of 1,000,000,000 items"),
    ("{{ [1, 2] * 10**8 }}", "`*` would build a value of 200,000,000 items"),
    ("{{ 10 ** 100000000 }}", "`10 ** 100000000` is too large a number"),
    ("{% for i in range(100000) %}{% for j in range(100) %}some text to repeat {{ i }}\n"
     "{% endfor %}{% endfor %}", "the rendered stack is over 8 MB"),
])
def test_runaway_values_are_refused_at_their_line(repo, expression, message):
    found = errors(repo, "stack: demo\nvalue: 1\n" + expression + "\n")
    assert len(found) == 1 and found[0].startswith("stacks/s.yaml.j2:3:"), found
    assert message in found[0]


def test_small_products_still_work(repo):
    assert render(repo, "a: {{ 'ab' * 3 }}\nb: {{ 2 ** 10 }}\nc: {{ [0] * 2 }}\n") == "a: ababab\nb: 1024\nc: [0, 0]\n"


def test_a_template_that_loops_too_long_is_stopped(repo, monkeypatch):
    monkeypatch.setattr(template.limits, "MAX_RENDER_SECONDS", 1)
    found = errors(repo, "stack: demo\n{% for i in range(100000) %}{% for j in range(100000) %}"
                         "{% endfor %}{% endfor %}\n")
    assert len(found) == 1 and "rendering took over 1 s" in found[0], found


# --- tags whose text holds their own closing delimiter ----------------------------------------


@pytest.mark.parametrize("text", [
    'a: {{ {"b": {"c": 1}} | json }}\n',            # `}}` inside a dict literal
    'a: "{{ "}}" ~ "x" }}"\n',                        # `}}` inside a string
    '{% set s = "%}" %}a: {{ s | length }}\n',        # `%}` inside a string in a statement
    'a: {{ [{"b": [1, {"c": 2}]}] | json }}\n',      # nested brackets
    'a: {{ {"b": {"c": {"e": 1}},\n "d": 2} | json }}\n',  # `}}` then a new line in the expression
    '{% set s = {"b": {"c": "%}"}}\n %}a: {{ s | json }}\n',
])
def test_closing_delimiters_inside_expressions(repo, text):
    """The line map's markers go only into template data: a `}}` that Jinja reads as part of the
    expression must not end the tag for them either (found by bench/template_speed.py)."""
    rendered = render(repo, text + "stack: demo\ntarget: 7\n")
    assert "\ue000" not in rendered
    found = errors(repo, text + "stack: demo\ntarget: 7\n")
    line = text.count("\n") + 2
    assert any(f.startswith(f"stacks/s.yaml.j2:{line}:") and "target" in f for f in found), found


def test_whitespace_stripped_before_a_tag_carries_no_marker(repo):
    """`{%-` strips the new line before it: the line-map marker of that line must go too, or a
    macro's value would hold it (`_int(...) | int` was 0 in the autoscale presets)."""
    text = ("{% macro m() -%}\n  42\n{%- endmacro %}\n"
            "stack: demo\nsame: {{ m() == '42' }}\nnumber: {{ m() | int + 1 }}\n")
    assert render(repo, text).splitlines()[-2:] == ["same: True", "number: 43"]
