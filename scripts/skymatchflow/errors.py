"""The error types that mean "this input (or config) is bad", not "this code is wrong".

A leaf: imported by every layer, it imports nothing of the package. Rule entry points turn an InputError into a single line naming the file and
the reason, and so an environment fault (environment_fault: a full disk, a
read-only file system, a permission error); any other exception is a bug
and keeps its traceback.
"""

import errno

__all__ = ["ConfigError", "InputError", "InputErrors", "environment_fault"]


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


class ConfigError(ValueError):
    """A wrong config value; the message names the key and what is allowed."""


ENVIRONMENT_FAULTS = {
    errno.ENOSPC: "no space left on the device; free space, then run snakemake again",
    errno.EDQUOT: "disk quota exceeded; free space, then run snakemake again",
    errno.EROFS: "read-only file system; run where results/ can be written",
    errno.EACCES: "permission denied; give write access, then run snakemake again",
    errno.EPERM: "operation not permitted; give write access, then run snakemake again",
}


def environment_fault(err):
    """The one line for an OSError that is the machine's, not the code's (full disk, read-only, permissions), or None."""
    reason = ENVIRONMENT_FAULTS.get(getattr(err, "errno", None))
    if reason is None:
        return None
    return f"{err.filename or 'a file'}: {reason}"
