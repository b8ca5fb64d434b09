"""The one error type that means "this input is bad", not "this code is wrong".

Rule entry points turn an InputError into a single line naming the file and
the reason; any other exception is a bug and keeps its traceback.
"""


class InputError(Exception):
    """A problem with one named input (file, extension or config key)."""

    def __init__(self, source, reason):
        reason = " ".join(str(reason).split())  # one line, even for a multi-line library message
        super().__init__(f"{source}: {reason}")
        self.source = str(source)
        self.reason = reason
