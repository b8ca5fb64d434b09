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


class InputErrors(InputError):
    """Several bad inputs found at once (the start-time header checks): one line each."""

    def __init__(self, errors):
        Exception.__init__(self, "\n".join(str(error) for error in errors))
        self.errors = list(errors)
        self.source = errors[0].source
        self.reason = errors[0].reason
