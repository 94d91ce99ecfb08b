"""Stack files are Jinja2 templates: render them before the YAML is read.

Rendering runs in Jinja2's immutable sandbox with `StrictUndefined`: an undefined name, an
unsafe attribute (`''.__class__`) or an include outside the allowed folders is an error with
the file and line of the template, never a traceback. A file with no `{{`, `{%` or `{#` is not
rendered at all (the fast path: Jinja2 is not even imported).

Context of a template:

* `vars` — the stack's own top-level `vars:` mapping, overridden key by key by each
  `--var-file` in order, then by each `--var NAME=VALUE` in order (last wins);
* `env` — environment variables, only by name: `env.NAME` (`env.NAME` unset is an error).

The stack's `vars:` block is read from the raw text, before rendering: it is the block that
starts with `vars:` at column 0 and runs to the next line at column 0. It must be plain YAML
(no template syntax), so it can be read before anything is rendered.

Includes and imports (`{% include 'x.yaml' %}`) resolve against the stack's own folder first,
then the nearest `templates/` folder at or above it (the repository's fragments). Absolute
names, `..` and anything resolving (through symlinks) outside those folders are refused.

Line map: before rendering, a marker naming (file, line) is put at the end of every line of
template *data* (never inside a tag) of the stack and of every included template; after
rendering, each output line takes the position of the first marker on it and the markers are
removed. So a line repeated by `{% for %}` maps to its line in the loop body, a line from an
included template maps to that template's file and line, and lines that a value with newlines
produced map to the line of the expression. Limits: columns are those of the rendered line
(exact up to the first expression on the line whose value has a different length than its
source text); the text captured by a block `{% set x %}…{% endset %}` carries markers too, so
comparing it with a string does not work (using it as output does).
"""

from deployer.stack.loader import has_template_syntax
from deployer.stack.template.linemap import LineMap, Rendered
from deployer.stack.template.render import TemplateFailure, render_stack_text, templates_folder
from deployer.stack.template.variables import load_variables, stack_vars

__all__ = ["LineMap", "Rendered", "TemplateFailure", "has_template_syntax", "load_variables", "render_stack_text",
           "stack_vars", "templates_folder"]
