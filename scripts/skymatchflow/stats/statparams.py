"""The sky statistic's parameters: their names, and picking them out of a rule's params.

A leaf of the stats layer: the config checks (jobs/config.py), the products'
keys and the statistics all name the same parameters.
"""

__all__ = ["STAT_KEYS", "stat_kwargs"]

# The parameters of the sky statistic (names as in the config and the step).
STAT_KEYS = ("skystat", "lower", "upper", "nclip", "lsigma", "usigma", "binwidth")


def stat_kwargs(params):
    """The statistic's keyword arguments picked out of a rule's params dict."""
    return {key: params[key] for key in STAT_KEYS}
