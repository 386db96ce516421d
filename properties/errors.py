"""The one exception type for bad user input, shared by every layer.

It lives in the lowest layer so that models, quorum systems and the explorer can all raise it
without importing upwards; the CLI turns it into a single line and exit code 2.
"""


class InputError(ValueError):
    """Bad input from a user: the message says what is wrong and how to mend it."""


def did_you_mean(word: str, choices) -> str:
    """' (did you mean X?)' for the closest of `choices` to a misspelled `word`, or ''."""
    from difflib import get_close_matches

    close = get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
