"""A job's parameters as a digest in Snakemake's params and the whole dict in a file.

Snakemake prints a job's params in its "Params have changed" reason (old and
new, on one line) and lists them under JOB PARAMETERS in the report: a batch's
full parameters (every member image, every input's stat signature) made that
one line of 25,000 characters at 200 images. The digest still changes exactly
when the parameters do, so re-runs are triggered as before; the job reads the
dict back from the file named by its digest and checks it.

A reference may also stand for one value of a job's params: "made_from"
(every image's spec and the settings its product keys are made from) is one
file that the params of the overlap graph, the solve and the audit name by
its digest, rather than three copies of a table of every image.
"""

import hashlib
import json
from pathlib import Path

from skymatchflow.errors import InputError
from skymatchflow.io.stagefiles import atomic_path

PARAMS_DIR = ".snakemake/skymatchflow/params"


def params_text(params):
    """The parameters as JSON text; key order kept, since input order is a parameter."""
    return json.dumps(params, separators=(",", ":"), allow_nan=False)


def by_digest(params, summary=None, directory=PARAMS_DIR):
    """{"params_sha256": digest} (after a small readable ``summary``) for a job's params; writes the file once."""
    text = params_text(params)
    digest = hashlib.sha256(text.encode()).hexdigest()
    path = Path(directory) / f"{digest}.json"
    if not path.is_file():
        with atomic_path(path) as tmp:
            tmp.write_text(text)
    return (summary or {}) | {"params_sha256": digest}


def is_reference(value):
    """True for what ``by_digest`` returns: a dict naming a params file by its digest."""
    return isinstance(value, dict) and "params_sha256" in value


def resolve_params(cfg, directory=PARAMS_DIR):
    """The job's whole parameters: ``cfg``, with itself and each of its values that is a ``by_digest`` reference
    replaced by the checked dict its file names (``cfg`` itself when it holds no reference)."""
    if is_reference(cfg):
        cfg = _read_params(cfg["params_sha256"], directory)
    if not isinstance(cfg, dict) or not any(is_reference(value) for value in cfg.values()):
        return cfg
    return {
        name: _read_params(value["params_sha256"], directory) if is_reference(value) else value
        for name, value in cfg.items()
    }


def _read_params(digest, directory):
    path = Path(directory) / f"{digest}.json"
    try:
        text = path.read_text()
    except OSError as err:
        raise InputError(path, f"cannot read the job's parameters ({err.strerror}); re-run the same command") from err
    if hashlib.sha256(text.encode()).hexdigest() != digest:
        raise InputError(path, "the job's parameters file was changed since Snakemake wrote it; "
                         "delete it and re-run the same command")
    return json.loads(text)
