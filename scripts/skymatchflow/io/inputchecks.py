"""Checks and names for the inputs found at start (see inputs.discover_images).

Kept apart from discovery so that what is refused before any job, and how
long or unsafe names become file names, is one small module.
"""

import hashlib
import os
import re
import sys

from skymatchflow.errors import ConfigError, InputError, environment_fault

# Stage files are named <image id>.<product>, <group>~<group>.json, ...;
# file names are limited to 255 bytes, so longer names are cut and keep a
# hash of the whole name (readable, stable, still unique).
MAX_NAME = 100  # one group's part of a pair file name
MAX_ID = 200  # an image id (products add at most 15 characters)
#: characters an image id or a group name may not carry into a file name
UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._+-]")


def short_name(name, limit=MAX_NAME):
    """``name`` if it is at most ``limit`` characters, else a cut prefix plus a hash of it."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[: limit - 11]}-{digest}"


def check_paths(specs):
    """Refuse, before any job, input paths that Snakemake or the run cannot use.

    ``{`` and ``}`` are wildcards to Snakemake; two paths of one file (a
    symbolic or hard link) would count its images twice.
    """
    seen = {}
    for spec in specs:
        for path in filter(None, (spec.file, spec.dq_file)):
            if "{" in path or "}" in path:
                raise InputError(path, "a file name with '{' or '}' cannot be used (Snakemake reads them as wildcards); rename it")
        try:
            stat = os.stat(spec.file)
        except OSError:
            continue  # a file a rule has yet to make
        other = seen.setdefault((stat.st_dev, stat.st_ino), spec.file)
        if other != spec.file:
            raise InputError(spec.file, f"is the same file as {other} (a link); list it once")


def check_listed_files_exist(images, made_by_workflow=()):
    """Refuse, before any job, a listed input file that is not there and that no rule makes.

    Snakemake drops a job whose input is missing when its output exists, so a
    deleted input would otherwise leave its old products in the table, and the
    run would say "Nothing to be done". ``images``: {image id: ImageSpec};
    ``made_by_workflow``: the paths a rule makes (the demo's images).
    """
    made = {os.path.normpath(path) for path in made_by_workflow}
    for spec in images.values():
        for path in filter(None, (spec.file, spec.dq_file)):
            if os.path.normpath(path) not in made and not os.path.exists(path):
                raise InputError(path, "file not found (a listed input); put it back or take it off the list")


def check_extension_spec(value):
    """Why ``value`` (a sheet's sci or dq) names no extension, or None if it can.

    ``SCI,abc`` would otherwise end in a bare int() traceback.
    """
    name, comma, ver = value.partition(",")
    if comma and not (name.strip() and ver.strip().isdigit()):
        return "is not an extension; use a name (SCI), a name and version (SCI,2) or an index (0)"
    return None


def stop_on_bad_input(check, *args):
    """``check(*args)`` at Snakemake start; a bad input or config value stops the run with its one line.

    Raised through Snakemake, the line would come wrapped in "... in file
    common.smk, line N:" and a Snakefile traceback; any other error (a bug)
    keeps its traceback.
    """
    try:
        return check(*args)
    except (InputError, ConfigError) as err:
        for line in str(err).splitlines():  # several only from the header checks (InputErrors)
            print(f"Error: {line}", file=sys.stderr)
        sys.exit(1)
    except OSError as err:
        line = environment_fault(err)
        if line is None:
            raise
        print(f"Error: {line}", file=sys.stderr)
        sys.exit(1)
