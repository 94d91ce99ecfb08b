"""Policy checks (`deploy check`): built-in security and cost rules over stack files.

    rules.py   the rule table: id, severity, rationale, fix, check (data, not code paths)
    check.py   run the rules on a stack file; positions, inline suppressions with reasons
    report.py  text, JSON and SARIF 2.1.0 renderings
    cli.py     the `deploy check` command
"""
