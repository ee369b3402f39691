"""The one exception type the command line turns into a readable line and an exit code."""


class AutograderError(Exception):
    """A problem the user can fix (bad path, malformed notebook, unknown assignment).

    The message is one line saying what is wrong and what to do.
    """
