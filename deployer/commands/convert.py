"""`deploy convert` on the command line (registered by deployer.cli with `register(app)`)."""

# No `from __future__ import annotations`: typer reads the option types from the annotations.
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class ReportFormat(str, Enum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command()
    def convert(
        sources: Annotated[list[Path], typer.Argument(
            help="Batch Shipyard configs (config/credentials/pool/jobs YAML), `az batch pool|job create "
                 "--json-file` JSON, Batch CLI extension templates, ARM/Bicep-compiled JSON.",
            show_default=False)],
        out: Annotated[Path | None, typer.Option("--out", help="Write the stack here (default: standard output).",
                                                 show_default=False)] = None,
        parameters: Annotated[list[Path] | None, typer.Option(
            "--parameters", help="A parameters file for the templates (repeatable); files that look like one "
                                 "are recognised among the sources too.", show_default=False)] = None,
        name: Annotated[str | None, typer.Option("--name", help="The stack's name (default: from the sources).",
                                                 show_default=False)] = None,
        output_format: Annotated[ReportFormat, typer.Option(
            "--format", help="text: the report on stderr; json: the report on stdout (needs --out).")]
            = ReportFormat.text,
    ) -> int:
        """Convert Shipyard / az batch / CLI-extension / ARM configurations into a stack; report what
        could not be carried over. Exit 1 if the result does not validate."""
        from deployer.console import print_diagnostics
        from deployer.convert import convert_files
        from deployer.convert.report import print_report, write_json_report
        from deployer.errors import UsageError

        if output_format is ReportFormat.json and out is None:
            raise UsageError("--format json prints the report on standard output: give --out for the stack")
        result = convert_files(sources, parameters, name, out)
        if out is not None:
            out.write_text(result.text, encoding="utf-8")
        else:
            sys.stdout.write(result.text)
        if output_format is ReportFormat.json:
            write_json_report(result)
        else:
            print_report(result, out)
        print_diagnostics(result.diagnostics)
        return 0 if result.ok else 1
