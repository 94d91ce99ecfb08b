"""The autoscale formula checker: valid formulas pass silently, each mistake is reported at its
exact line and column inside the formula, and the canonical form ignores layout only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deployer.stack.formula import FormulaIssue, canonical_formula, check_formula

# --- valid formulas: no error, no warning ---------------------------------------------------------

DOC_PENDING_TASKS = """\
startingNumberOfVMs = 1;
maxNumberofVMs = 25;
pendingTaskSamplePercent = $PendingTasks.GetSamplePercent(180 * TimeInterval_Second);
pendingTaskSamples = pendingTaskSamplePercent < 70 ? startingNumberOfVMs : avg($PendingTasks.GetSample(180 * TimeInterval_Second));
$TargetDedicatedNodes=min(maxNumberofVMs, pendingTaskSamples);
$NodeDeallocationOption = taskcompletion;
"""  # noqa: E501 (verbatim from Microsoft's documentation)

DOC_PREEMPTED = """\
maxNumberofVMs = 25;
$TargetDedicatedNodes = min(maxNumberofVMs, $PreemptedNodeCount.GetSample(180 * TimeInterval_Second));
$TargetLowPriorityNodes = min(maxNumberofVMs , maxNumberofVMs - $TargetDedicatedNodes);
$NodeDeallocationOption = taskcompletion;
"""

DOC_CPU = """\
$totalDedicatedNodes =
    (min($CPUPercent.GetSample(TimeInterval_Minute * 10)) > 0.7) ?
    ($CurrentDedicatedNodes * 1.1) : $CurrentDedicatedNodes;
$totalDedicatedNodes =
    (avg($CPUPercent.GetSample(TimeInterval_Minute * 60)) < 0.2) ?
    ($CurrentDedicatedNodes * 0.9) : $totalDedicatedNodes;
$TargetDedicatedNodes = min(400, $totalDedicatedNodes);
$NodeDeallocationOption = taskcompletion;
"""

DOC_TIME_BASED = """\
$curTime = time();
$workHours = $curTime.hour >= 8 && $curTime.hour < 18;
$isWeekday = $curTime.weekday >= 1 && $curTime.weekday <= 5;
$isWorkingWeekdayHour = $workHours && $isWeekday;
$TargetDedicatedNodes = $isWorkingWeekdayHour ? 20:10;
$NodeDeallocationOption = taskcompletion;
"""

DOC_TASK_BASED = """\
// Get pending tasks for the past 15 minutes.
$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 15);
// If we have fewer than 70 percent data points, we use the last sample point,
// otherwise we use the maximum of last sample point and the history average.
$tasks = $samples < 70 ? max(0,$PendingTasks.GetSample(1)) : max( $PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 15)));
// If number of pending tasks is not 0, set targetVM to pending tasks, otherwise
// half of current dedicated.
$targetVMs = $tasks > 0? $tasks:max(0, $TargetDedicatedNodes/2);
// The pool size is capped at 20.
$TargetDedicatedNodes = max(0, min($targetVMs, 20));
// Set node deallocation mode - let running tasks finish before removing a node
$NodeDeallocationOption = taskcompletion;
"""  # noqa: E501 (verbatim from Microsoft's documentation)

DOC_PARALLEL_TASKS = """\
// Determine whether 70 percent of the samples have been recorded in the past
// 15 minutes; if not, use last sample
$samples = $ActiveTasks.GetSamplePercent(TimeInterval_Minute * 15);
$tasks = $samples < 70 ? max(0,$ActiveTasks.GetSample(1)) : max( $ActiveTasks.GetSample(1),avg($ActiveTasks.GetSample(TimeInterval_Minute * 15)));
$cores = $TargetDedicatedNodes * 4;
$extraVMs = (($tasks - $cores) + 3) / 4;
$targetVMs = ($TargetDedicatedNodes + $extraVMs);
$TargetDedicatedNodes = max(0,min($targetVMs,3));
$NodeDeallocationOption = taskcompletion;
"""  # noqa: E501 (verbatim from Microsoft's documentation)

DOC_INITIAL_SIZE = """
    $TargetDedicatedNodes = 4;
    lifespan         = time() - time("Mon, 14 Oct 2016 18:36:43 GMT");
    span             = TimeInterval_Minute * 60;
    startup          = TimeInterval_Minute * 10;
    ratio            = 50;

    $TargetDedicatedNodes = (lifespan > startup ? (max($RunningTasks.GetSample(span, ratio), $ActiveTasks.GetSample(span, ratio)) == 0 ? 0 : $TargetDedicatedNodes) : 4);
    """  # noqa: E501 (verbatim from Microsoft's documentation)

VALID = [
    ("doc: pending tasks", DOC_PENDING_TASKS),
    ("doc: preempted nodes", DOC_PREEMPTED),
    ("doc: CPU usage", DOC_CPU),
    ("doc: time based", DOC_TIME_BASED),
    ("doc: task based, with comments", DOC_TASK_BASED),
    ("doc: parallel tasks", DOC_PARALLEL_TASKS),
    ("doc: initial pool size", DOC_INITIAL_SIZE),
    ("doc: one statement, no semicolon", "$TargetDedicatedNodes = (time().weekday == 1 ? 5:1)"),
    ("doc: sample range with percentage",
     "$runningTasksSample = $RunningTasks.GetSample(\n"
     "    60 * TimeInterval_Second, 120 * TimeInterval_Second, 75);\n"
     "$TargetDedicatedNodes = max($runningTasksSample);"),
    ("design sketch",
     "$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 5);\n"
     "$TargetLowPriorityNodes = min(4, $PendingTasks.GetSample(1));\n"
     "$NodeDeallocationOption = taskcompletion;\n"),
    ("CRLF line endings and block comments",
     "/* scale on\r\n   pending tasks */\r\n$p = $PendingTasks.GetSample(1); /* last */\r\n"
     "$TargetDedicatedNodes = /* inline */ min(10, $p);\r\n"),
    ("every function",
     "$v = $CPUPercent.GetSample(TimeInterval_Minute * 10);\n"
     "$a = avg($v) + len($v) + lg(2) + ln(2) + log(10) + norm($v) + percentile($v, 90) + rand()\n"
     "   + range($v) + std($v) + sum($v, 1, 2) + val($v, 0) + ceil(1.5) + floor(1.5) + round(1.5);\n"
     "$TargetDedicatedNodes = max(0, min($a, 10));"),
    ("every sample method",
     "$n = $CPUPercent.Count() + $DiskBytes.GetSamplePeriod() + $MemoryBytes.GetSamplePercent(\n"
     "  TimeInterval_Hour, TimeInterval_Minute * 5);\n"
     "$since = time() - $NetworkInBytes.HistoryBeginTime();\n"
     "$TargetDedicatedNodes = $n > 0 && $since > TimeInterval_Day ? 2 : 1;"),
    ("every timestamp member and time interval",
     "$t = time(\"2024-01-01T00:00:00Z\");\n"
     "$x = $t.year + $t.month + $t.day + $t.weekday + $t.hour + $t.minute + $t.second;\n"
     "$i = TimeInterval_Zero + TimeInterval_100ns + TimeInterval_Microsecond + TimeInterval_Millisecond\n"
     "   + TimeInterval_Second + TimeInterval_Minute + TimeInterval_Hour + TimeInterval_Day\n"
     "   + TimeInterval_Week + TimeInterval_Year;\n"
     "$TargetDedicatedNodes = $x > 0 && $i > TimeInterval_Zero;"),
    ("operators, unary minus and not, nested ternaries, strings",
     "$a = -1 * -(2 + 3) / 4 - !0;\n"
     "$b = \"abc\" < \"abd\" || $a != 2 && !($a >= 3) || $a <= 4 == 1;\n"
     "$TargetDedicatedNodes = $a > 0 ? ($b ? 1 : 2) : $b ? 3 : 4;"),
    ("number forms", "$TargetDedicatedNodes = 1.5e3 + .5 + 2E-2 + 10. + 007 + 1e+2;"),
    ("every deallocation option, low-priority target",
     "$x = $FailedTasks.GetSample(1);\n"
     "$NodeDeallocationOption =\n"
     "    $x > 3 ? requeue : ($x > 2 ? terminate : ($x > 1 ? retaineddata : taskcompletion));\n"
     "$TargetLowPriorityNodes = $x;"),
    ("newer service variables",
     "$slots = $TaskSlotsPerNode.GetSample(1);\n"
     "$usable = $UsableNodeCount.GetSample(1);\n"
     "$TargetDedicatedNodes = max($usable, $SucceededTasks.GetSample(1) / $slots);"),
    ("stop() in a branch, empty statements, comment at the very end",
     "$TargetDedicatedNodes = 1;;\n"
     "$ok = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 10) < 50 ? stop() : 1; // no newline"),
    ("stop() as a statement", "$TargetDedicatedNodes = 1; stop();"),
]


@pytest.mark.parametrize("formula", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_formula(formula):
    assert check_formula(formula) == []


# --- invalid formulas: (formula, line, column, message substring) ---------------------------------

DOC_MISSING_SEMICOLON = """\
$totalDedicatedNodes =
    (min($CPUPercent.GetSample(TimeInterval_Minute * 10)) > 0.7) ?
    ($CurrentDedicatedNodes * 1.1) : $CurrentDedicatedNodes;
$totalDedicatedNodes =
    (avg($CPUPercent.GetSample(TimeInterval_Minute * 60)) < 0.2) ?
    ($CurrentDedicatedNodes * 0.9) : $totalDedicatedNodes;
$TargetDedicatedNodes = min(400, $totalDedicatedNodes)
$NodeDeallocationOption = taskcompletion;
"""

INVALID = [
    ("empty", "", 1, 1, "the autoscale formula is empty"),
    ("only whitespace and comments", "  \n// nothing yet\n/* later */\n", 1, 1,
     "the autoscale formula is empty"),
    ("operand missing before ')'",
     "$pending = $PendingTasks.GetSample(1);\n$TargetDedicatedNodes = min(4, $pending +);", 2, 42,
     "unexpected ')' — expected an expression"),
    ("service variable in lower case", "$targetdedicatednodes = 1;", 1, 1,
     "unknown service-defined variable $targetdedicatednodes — did you mean $TargetDedicatedNodes?"),
    ("service variable one letter short", "$x = 1;\n  $TargetLowPriorityNode = $x;", 2, 3,
     "unknown service-defined variable $TargetLowPriorityNode — did you mean $TargetLowPriorityNodes?"),
    ("service variable without '$'", "TargetDedicatedNodes = 3;", 1, 1,
     "without '$' is a variable of your own, not a service-defined one — "
     "did you mean $TargetDedicatedNodes?"),
    ("read-only service variable assigned", "$TargetDedicatedNodes = 1;\n$PendingTasks = 4;", 2, 1,
     "$PendingTasks is a read-only service-defined variable"),
    ("unknown function", "$TargetDedicatedNodes = maxx(1, 2);", 1, 25,
     "unknown function 'maxx' — did you mean 'max'?"),
    ("unknown function, no close match", "$TargetDedicatedNodes = ceiling(1.5);", 1, 25,
     "unknown function 'ceiling'; the functions are avg,"),
    ("too few arguments", "$TargetDedicatedNodes = percentile($CPUPercent.GetSample(10));", 1, 25,
     "percentile() takes 2 arguments, got 1"),
    ("too many arguments", "$TargetDedicatedNodes = 1;\n$r = rand(6);", 2, 6,
     "rand() takes 0 arguments, got 1"),
    ("function with no arguments", "$TargetDedicatedNodes = max();", 1, 25,
     "max() takes at least 1 argument, got 0"),
    ("unknown method", "$TargetDedicatedNodes = $PendingTasks.GetSamples(1);", 1, 39,
     "unknown method 'GetSamples' — did you mean 'GetSample'?"),
    ("method with too many arguments", "$TargetDedicatedNodes = $PendingTasks.GetSample(1, 2, 3, 4);", 1, 39,
     "GetSample() takes 1 to 3 arguments, got 4"),
    ("method without parentheses", "$TargetDedicatedNodes = avg($CPUPercent.GetSample);", 1, 41,
     "'GetSample' is a method: call it as GetSample(…)"),
    ("unknown timestamp member", "$TargetDedicatedNodes = time().hours > 8;", 1, 32,
     "unknown member 'hours' — did you mean 'hour'?"),
    ("modulo", "$TargetDedicatedNodes = 5 % 2;", 1, 27, "'%' is not an operator in autoscale formulas"),
    ("power", "$TargetDedicatedNodes = 2 ^ 3;", 1, 27, "'^' is not an operator in autoscale formulas"),
    ("single '&'", "$TargetDedicatedNodes = 1 & 2;", 1, 27, "did you mean '&&'?"),
    ("the documentation's own missing ';'", DOC_MISSING_SEMICOLON, 8, 1,
     "missing ';' before '$NodeDeallocationOption' — end each statement with ';'"),
    ("two values in a row", "$TargetDedicatedNodes = 1 2;", 1, 27,
     "unexpected number 2 — expected an operator or ';'"),
    ("unclosed parenthesis", "$TargetDedicatedNodes = (1 + 2;", 1, 31,
     "unexpected ';' — expected ')' to close the '(' at line 1, column 25"),
    ("unclosed call at the end", "$TargetDedicatedNodes =\n  min(1,\n      2", 3, 8,
     "unexpected end of formula — expected ',' or ')' to close the '(' at line 2, column 6"),
    ("extra ')'", "$TargetDedicatedNodes = (1 + 2));", 1, 32, "unexpected ')' — it closes no '('"),
    ("ternary without ':'", "$TargetDedicatedNodes = $x > 1 ? 2;", 1, 35, "expected ':' to complete"),
    ("'=' used to compare", "$TargetDedicatedNodes = $CurrentDedicatedNodes = 2 ? 1 : 0;", 1, 48,
     "to compare, use '=='"),
    ("assignment to an expression", "$TargetDedicatedNodes + 1 = 2;", 1, 27,
     "the left side of '=' must be a variable"),
    ("CRLF lines, empty argument", "$a = 1;\r\n$TargetDedicatedNodes =\r\n    max(1,,2);", 3, 11,
     "unexpected ',' — expected an expression"),
    ("tab counts as one column", "\t$TargetDedicatedNodes = 1 +;", 1, 29,
     "unexpected ';' — expected an expression"),
    ("unterminated string", '$TargetDedicatedNodes = 1;\n$t = time("2024-01-01);', 2, 11,
     "unterminated string"),
    ("unterminated comment", "$TargetDedicatedNodes = 1;\n\n  /* TODO", 3, 3, "unterminated comment"),
    ("single-quoted string", "$TargetDedicatedNodes = 1;\n$t = time('2024-01-01');", 2, 11,
     "strings are written in double quotes"),
    ("stray character", "$TargetDedicatedNodes = 1 # 2;", 1, 27, "unexpected character '#'"),
    ("vector literal", "$TargetDedicatedNodes = max([1, 2]);", 1, 29, "unexpected character '['"),
    ("lone '$'", "$ = 1;", 1, 1, "'$' starts a variable name"),
    ("misspelt time interval",
     "$TargetDedicatedNodes = avg($CPUPercent.GetSample(TimeInterval_Minutes * 5));", 1, 51,
     "unknown time interval 'TimeInterval_Minutes' — did you mean TimeInterval_Minute?"),
    ("misspelt deallocation option",
     "$TargetDedicatedNodes = 1;\n$NodeDeallocationOption = taskcompletions;", 2, 27,
     "unknown node deallocation option 'taskcompletions' — did you mean taskcompletion?"),
    ("service variable read without '$'", "$TargetDedicatedNodes = PendingTasks.GetSample(1);", 1, 25,
     "service-defined variables start with '$' — did you mean $PendingTasks?"),
    ("misspelt service variable read", "$TargetDedicatedNodes = $PendingTask.GetSample(1);", 1, 25,
     "unknown service-defined variable $PendingTask — did you mean $PendingTasks?"),
    ("deallocation option assigned", "requeue = 1;\n$TargetDedicatedNodes = 1;", 1, 1,
     "'requeue' is a value of $NodeDeallocationOption, not a variable"),
    ("calling a variable", "$TargetDedicatedNodes = $PendingTasks(1);", 1, 38,
     "unexpected '(' — only functions and methods can be called"),
    ("nested too deeply", "$TargetDedicatedNodes = " + "(" * 60 + "1" + ")" * 60 + ";", 1, 65,
     "nests more than 40 levels deep"),
    ("101 statements", "$TargetDedicatedNodes = 1;\n" * 101, 101, 1, "too many statements"),
    ("over 8 KB", "/*" + "x" * 8200 + "*/ $TargetDedicatedNodes = 1;", 1, 1,
     "Azure Batch accepts at most 8 KB"),
]


@pytest.mark.parametrize(("formula", "line", "column", "message"), [c[1:] for c in INVALID],
                         ids=[c[0] for c in INVALID])
def test_invalid_formula(formula, line, column, message):
    issues = check_formula(formula)
    errors = [i for i in issues if i.severity == "error"]
    assert errors, f"expected an error, got {issues}"
    matching = [i for i in errors if message in i.message]
    assert matching, f"no error says {message!r}; got {issues}"
    assert (matching[0].line, matching[0].column) == (line, column), matching[0]


# --- warnings: legal, but almost certainly not what was meant ----------------------------------------

WARNINGS = [
    ("documented legacy alias", "$TargetDedicated = 2;", 1, 1,
     "$TargetDedicated is the legacy alias of $TargetDedicatedNodes; did you mean $TargetDedicatedNodes?"),
    ("legacy low-priority alias", "$x = 1;\n$TargetLowPriority = $x;", 2, 1,
     "did you mean $TargetLowPriorityNodes?"),
    ("variable read before it is assigned", "$TargetDedicatedNodes = min(4, $pending);", 1, 32,
     "$pending is read before any statement assigns it"),
    ("user variable differing from a read-only one only in case",
     "$activetasks = $ActiveTasks.GetSample(1);\n$TargetDedicatedNodes = $activetasks;", 1, 1,
     "differs from the read-only service-defined variable $ActiveTasks only in case"),
    ("value computed and dropped", "$TargetDedicatedNodes = 1;\nmax(1, 2);", 2, 1,
     "this statement computes a value but does not use it"),
    ("no target assigned", "// keep tasks\n$NodeDeallocationOption = taskcompletion;", 2, 1,
     "never assigns $TargetDedicatedNodes or $TargetLowPriorityNodes"),
]


@pytest.mark.parametrize(("formula", "line", "column", "message"), [c[1:] for c in WARNINGS],
                         ids=[c[0] for c in WARNINGS])
def test_warning(formula, line, column, message):
    issues = check_formula(formula)
    assert [i.severity for i in issues] == ["warning"], issues
    assert message in issues[0].message
    assert (issues[0].line, issues[0].column) == (line, column)


def test_every_error_in_one_pass():
    formula = (
        "$a = (1;\n"                      # syntax error: recover at the ';'
        "$b = maxx(2);\n"                 # unknown function
        "$TargetDedicatedNodes = 1 +;\n"  # syntax error
        "$CPUPercent = 3;\n"              # read-only
        "$TargetDedicatedNodes = $b"      # still checked after all of the above
    )
    assert [(i.line, i.column, i.severity) for i in check_formula(formula)] == [
        (1, 8, "error"), (2, 6, "error"), (3, 28, "error"), (4, 1, "error"),
    ]


def test_the_issue_type():
    (issue,) = check_formula("$TargetDedicatedNodes = )")
    assert issue == FormulaIssue(1, 25, "unexpected ')' — expected an expression")
    assert issue.severity == "error"
    with pytest.raises(AttributeError):
        issue.line = 2  # type: ignore[misc]


# --- canonical form ------------------------------------------------------------------------------------

SAME = [
    ("spaces around operators", "$a=1+2;", "$a = 1 + 2 ;"),
    ("line endings", "$a = 1;\n$b = 2;\n", "$a = 1;\r\n$b = 2;\r\n"),
    ("indentation and blank lines", "  $a = min( 1,2 ) ;\n\n\n\t$b=3", "$a = min(1, 2);\n$b = 3"),
    ("trailing semicolons", "$TargetDedicatedNodes = 1;", "$TargetDedicatedNodes = 1"),
    ("trailing semicolon and newline", "$TargetDedicatedNodes = 1;\n", "$TargetDedicatedNodes = 1 ;  "),
    ("method calls", "$x = $CPUPercent . GetSample ( 1 )", "$x = $CPUPercent.GetSample(1)"),
    ("whitespace inside comments", "// a  b\n$x = 1; /*  c\n d */", "//   a b\r\n$x = 1; /* c d */"),
    ("unary operators", "$x = - 1 * ! $y", "$x = -1 * !$y"),
]

DIFFERENT = [
    ("a value", "$a = 1;", "$a = 2;"),
    ("a comment", "// one\n$a = 1;", "// two\n$a = 1;"),
    ("a string's spaces", '$t = time("a b");', '$t = time("a  b");'),
    ("a statement on a commented-out line", "// x\n$a = 1;", "// x $a = 1;"),
    ("a split token", "$a = 1 <= 2;", "$a = 1 < = 2;"),
]


@pytest.mark.parametrize(("one", "other"), [c[1:] for c in SAME], ids=[c[0] for c in SAME])
def test_canonical_form_ignores_layout(one, other):
    assert canonical_formula(one) == canonical_formula(other)


@pytest.mark.parametrize(("one", "other"), [c[1:] for c in DIFFERENT], ids=[c[0] for c in DIFFERENT])
def test_canonical_form_keeps_meaning(one, other):
    assert canonical_formula(one) != canonical_formula(other)


def test_canonical_form_reads_well():
    assert canonical_formula(DOC_TIME_BASED).splitlines()[0].startswith(
        "$curTime = time(); $workHours = $curTime.hour >= 8 && $curTime.hour < 18;"
    )


# --- properties ----------------------------------------------------------------------------------------

FORMULA_ALPHABET = "$()+-*/%<>=!&|?:;,. \t\r\n\"'[]#abcxyzTGS_019eE"

TOKENS = [
    "$TargetDedicatedNodes", "$x", "x", "max", "GetSample", "TimeInterval_Minute", "taskcompletion",
    "(", ")", ",", ";", "=", "==", "!=", "+", "-", "*", "/", "<", "<=", ">", ">=", "?", ":", "!", "&&", "||",
    ".", "1", "2.5", "1e3", ".5", '"a b"', "/* note  here */", "// line note", "#",
]
WHITESPACE = st.text(alphabet=" \t\r\n", min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.text(alphabet=FORMULA_ALPHABET, max_size=200)))
def test_check_formula_never_raises(text):
    issues = check_formula(text)
    lines = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for issue in issues:
        assert isinstance(issue, FormulaIssue)
        assert 1 <= issue.line <= lines and issue.column >= 1
        assert issue.severity in ("error", "warning") and issue.message


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=30), st.data())
def test_canonical_form_is_stable_under_whitespace(tokens, data):
    def render(separator):
        out = ""
        for token in tokens:
            out += token + ("\n" if token.startswith("//") else "") + separator()
        return out

    plain = render(lambda: " ")
    spaced = data.draw(WHITESPACE) + render(lambda: data.draw(WHITESPACE))
    assert canonical_formula(plain) == canonical_formula(spaced)
    if not tokens[-1].startswith("//"):
        assert canonical_formula(plain + ";") == canonical_formula(plain.rstrip() + " ;\r\n")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.text(alphabet=FORMULA_ALPHABET, max_size=200)))
def test_canonical_form_is_idempotent(text):
    once = canonical_formula(text)
    assert canonical_formula(once) == once
