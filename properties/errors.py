"""The one exception type for bad user input, shared by every layer.

It lives in the lowest layer so that models, quorum systems and the explorer can all raise it
without importing upwards; the CLI turns it into a single line and exit code 2.
"""


class InputError(ValueError):
    """Bad input from a user: the message says what is wrong and how to mend it."""
