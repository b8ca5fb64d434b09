"""A job's parameters as a digest in Snakemake's params and the whole dict in a file.

Snakemake prints a job's params in its "Params have changed" reason (old and
new, on one line) and lists them under JOB PARAMETERS in the report: a batch's
full parameters (every member image, every input's stat signature) made that
one line of 25,000 characters at 200 images. The digest still changes exactly
when the parameters do, so re-runs are triggered as before; the job reads the
dict back from the file named by its digest and checks it.
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


def resolve_params(cfg, directory=PARAMS_DIR):
    """The job's whole parameters: ``cfg`` itself, or the checked file a ``by_digest`` reference names."""
    if not isinstance(cfg, dict) or "params_sha256" not in cfg:
        return cfg
    path = Path(directory) / f"{cfg['params_sha256']}.json"
    try:
        text = path.read_text()
    except OSError as err:
        raise InputError(path, f"cannot read the job's parameters ({err.strerror}); re-run the same command") from err
    if hashlib.sha256(text.encode()).hexdigest() != cfg["params_sha256"]:
        raise InputError(path, "the job's parameters file was changed since Snakemake wrote it; "
                         "delete it and re-run the same command")
    return json.loads(text)
