"""The defaults of `agree fuzz`, apart from the engine so that the command line can show them
without importing Hypothesis (a third of a second and some 25 MiB at every start)."""

DEFAULT_EXAMPLES = 200
DEFAULT_STEPS = 100
DEFAULT_SEGMENT = 24  # guided runs: new steps in one run
RUNS_PER_EXAMPLE = 8  # guided runs: runs in one Hypothesis example
BATCH = 8  # steps per rule call: Hypothesis's cost per rule call exceeds a model's step
UNLIMITED_EXAMPLES = 1_000_000_000  # a time limit without --examples: runs go on until the limit
MAX_STATES = 1_000_000  # distinct states remembered for the count (memory): past that the count stops
