"""The engines and everything around a run, installed as `agree.explorer`, in four floors that
import downwards only:

- `engines`: the searches and what they share (see `agree.explorer.engines`);
- `traces`: what is done with a trace: the file format and its schema, replay, rendering, reports;
- `web`: the explorer's HTTP server and what its page shows;
- `cli`: the `agree` command line, one module per command.

Beside them, `pytest_plugin` (assert_holds, assert_violates, `*.agree.toml` suites). From Python,
`agree.check(model, ...)` runs a search and returns a CheckResult.
"""
