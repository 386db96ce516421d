"""The defaults of `agree fuzz`, apart from the engine so that the command line can show them
without importing Hypothesis (a third of a second and some 25 MiB at every start)."""

DEFAULT_EXAMPLES = 200
DEFAULT_STEPS = 100
MAX_STEPS = 1_000  # Hypothesis draws an example's choices from a bounded buffer (8 KiB in its engine): a
# plain run past about 1,100 steps is cut short and guided runs past about 2,000 fail to generate at all
DEFAULT_SEGMENT = 24  # guided runs: new steps in one run
RUNS_PER_EXAMPLE = 8  # guided runs: runs in one Hypothesis example
BATCH = 8  # steps per rule call: Hypothesis's cost per rule call exceeds a model's step
UNLIMITED_EXAMPLES = 1_000_000_000  # a time limit without --examples: runs go on until the limit
MAX_STATES = 1_000_000  # distinct states counted (by hash: some 66 MiB at most): past that the count stops
