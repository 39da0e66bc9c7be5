"""`numpynn check`'s output: a table, one row per function (pass / FAIL and the hint), then a summary; or JSON."""

import json

from numpynn.app.check.sandbox import Report


def as_json(report: Report) -> str:
    """One JSON document: file, functions [{name, passed, hint}], passed, failed, not_found."""
    functions = [{"name": n, "passed": ok, "hint": hint} for n, (ok, hint) in report.results.items()]
    passed = sum(f["passed"] for f in functions)
    return json.dumps({"file": report.file, "functions": functions, "passed": passed,
                       "failed": len(functions) - passed, "not_found": report.not_found}, indent=2)


def as_table(report: Report) -> str:
    """The table and the summary line, as text."""
    width = max(len("function"), *map(len, report.results))
    lines = [f"{'function':<{width}}  result  hint"]
    for name, (ok, hint) in report.results.items():
        lines.append(f"{name:<{width}}  {'pass' if ok else 'FAIL':<6}  {hint or ''}".rstrip())
    passed = sum(ok for ok, _ in report.results.values())
    failed = len(report.results) - passed
    total = len(report.results)
    summary = f"{passed} of {total} function{'s' * (total != 1)} pass" + (f", {failed} fail{'s' * (failed == 1)}"
                                                                          if failed else "")
    if report.not_found:
        summary += f"; not in {report.file} (not graded): {', '.join(report.not_found)}"
    return "\n".join([*lines, "", summary + "."])
