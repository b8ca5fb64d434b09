"""Config checks that stop a run before any job, with one line naming the key.

The JSON schema (workflow/schemas/config.schema.yaml) is the single source of
allowed keys, types and ranges; here its errors are turned into readable
messages, and the checks a schema cannot express are added.
"""

import math
from pathlib import Path

from skymatchflow.errors import ConfigError
from skymatchflow.stats.statparams import STAT_KEYS, stat_kwargs

# ConfigError and stat_kwargs are named here too: what a config check raises, and the statistic's
# arguments it yields (products/ruleparams takes stat_kwargs from this module)
__all__ = ["ConfigError", "STAT_KEYS", "check_config", "match_options", "pair_options", "plane_config_problem",
           "shipped_config", "stat_kwargs"]

# Numbers that YAML can spell as .nan or .inf (or 1e400), which a JSON schema
# cannot refuse: NaN compares false with every bound.
FINITE_KEYS = ("lower", "upper", "lsigma", "usigma", "binwidth")


# The opt-in options beyond the reference (issue 19), with the values that keep its behaviour.
PAIR_OPTIONS = {"pair_statistic": "reference", "sky_model": "constant"}
MATCH_OPTIONS = {"match_weights": "reference", "robust_loss": "huber", "anchor": None, "sky_model": "constant"}


def pair_options(config):
    """The pair stage's opt-in options that differ from the reference ({} for the defaults).

    Empty for the defaults so that the pair stage's params and keys (and
    thus its files) stay exactly what they were without these options.
    """
    return {k: config[k] for k, default in PAIR_OPTIONS.items() if config.get(k, default) != default}


def match_options(config):
    """The solve's opt-in options, with their defaults."""
    return {k: config.get(k, default) for k, default in MATCH_OPTIONS.items()}


def _schema_message(error, schema):
    path = [str(part) for part in error.absolute_path]
    where = f"config key '{'.'.join(path)}'" if path else "config"
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        allowed = ", ".join(sorted(known))
        return f"{where}: {error.message}{_did_you_mean(error.instance, known)}; allowed keys: {allowed}"
    described = schema["properties"].get(path[0], {}).get("description", "") if path else ""
    hint = f"; allowed: {described}" if described else ""
    return f"{where}: {error.message}{hint}"


def _did_you_mean(instance, known):
    """'; did you mean 'skystat'?' for each unknown key close to a known one ('' when none is)."""
    import difflib

    hints = []
    for key in instance if isinstance(instance, dict) else ():
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.7)
            if close:
                hints.append(f"'{key}': did you mean '{close[0]}'?")
    return "; " + "; ".join(hints) if hints else ""


INPUT_KEYS = ("images", "image_sheet", "associations")
SHIPPED_CONFIG = "config/config.yaml"


def _input_keys_message(given, shipped):
    """The one line for inputs given by none or several of INPUT_KEYS, naming where each came from."""
    keys = "', '".join(INPUT_KEYS)
    if not given:
        return f"config keys '{keys}': none is set; give one of them"
    from_shipped = [key for key in given if shipped is not None and shipped.get(key) is not None]
    if from_shipped and len(from_shipped) < len(given):
        yours = [key for key in given if key not in from_shipped]
        shown = "', '".join(from_shipped)
        return (f"config keys '{keys}': you set '{yours[0]}', and '{shown}' comes from the shipped "
                f"{SHIPPED_CONFIG} (the demo's files); add {from_shipped[0]}: null to your config file")
    both = " and ".join(f"'{key}'" for key in given)
    return f"config keys '{keys}': {both} are all set; give exactly one of them (the others null)"


def shipped_config(path=SHIPPED_CONFIG):
    """The shipped config file's values (the ``configfile:`` a user's --configfile overrides), or None."""
    import yaml

    try:
        # libyaml's parser where built: a config of 2,000 image paths is ~0.3 s of every start in pure Python
        return yaml.load(Path(path).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError):
        return None


def check_config(config, schema_path, shipped=None):
    """Raise ConfigError for the first problem found in ``config``.

    ``shipped``: the shipped config/config.yaml's values, to say which key came from it.
    """
    # imported here: the Snakemake process imports this module at every start
    import yaml
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    schema = yaml.safe_load(Path(schema_path).read_text())
    error = best_match(Draft202012Validator(schema).iter_errors(config))
    if error is not None:
        raise ConfigError(_schema_message(error, schema))
    for key in FINITE_KEYS:
        value = config.get(key)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"config key '{key}': {value} is not a finite number; allowed: {schema['properties'][key]['description']}")
    given = [key for key in INPUT_KEYS if config.get(key)]
    if len(given) != 1:
        raise ConfigError(_input_keys_message(given, shipped))
    dqbits = config.get("dqbits", 0)
    if isinstance(dqbits, str):
        # astropy passes integers and null through unchanged; only a string
        # needs its parser, whose import costs every Snakemake start ~0.6 s
        from skymatchflow.stats.dqflags import interpret_dqbits

        try:
            interpret_dqbits(dqbits)
        except ValueError as err:
            raise ConfigError(f"config key 'dqbits': {err}") from None
    if config.get("exclude"):
        from skymatchflow.errors import InputError
        from skymatchflow.stats.exclusions import exclusion_params

        try:
            exclusion_params(config)
        except InputError as err:
            raise ConfigError(str(err)) from None
    if config.get("skymethod") == "user" and not config.get("skylist"):
        raise ConfigError("config key 'skylist': skymethod 'user' needs a skylist file (file name and sky per line)")
    if config.get("sky_model", "constant") == "plane":
        problem = plane_config_problem(config)
        if problem:
            raise ConfigError(problem)
    lower, upper = config.get("lower"), config.get("upper")
    if lower is not None and upper is not None and lower > upper:
        raise ConfigError(
            f"config keys 'lower'/'upper': lower ({lower}) is above upper ({upper}); "
            "every statistic would fail"
        )


#: the skymethods sky_model: plane runs with: the global and local stages take one constant per image
PLANE_SKYMETHODS = ("match",)


def plane_config_problem(config):
    """The one-line reason ``sky_model: plane`` cannot run with ``config``, or None."""
    if config.get("skymethod", "global+match") not in PLANE_SKYMETHODS:
        return (f"config key 'sky_model': plane needs skymethod match, not {config.get('skymethod', 'global+match')!r} "
                "(the global and local stages take one constant per image)")
    if config.get("pair_statistic", "reference") != "difference":
        return "config key 'sky_model': plane needs pair_statistic difference (planes are fitted to pixel-wise differences)"
    return None
