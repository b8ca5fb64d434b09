"""Old home of the error types, now the leaf ``skymatchflow/errors.py``: kept so that code written against it imports."""

from skymatchflow.errors import ENVIRONMENT_FAULTS, ConfigError, InputError, InputErrors, environment_fault

__all__ = ["ENVIRONMENT_FAULTS", "ConfigError", "InputError", "InputErrors", "environment_fault"]
