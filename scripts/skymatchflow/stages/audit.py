"""The audit a user runs before publishing (``snakemake audit``): every result and product checked on disk.

The workflow's own checks trust stat signatures and the files Snakemake
tracks; the audit trusts nothing. It hashes every input again, recomputes
every product key from the current inputs, parameters and code, checks every
product's seal in the batch directories and in the store, every pair record,
and what the sky and pair tables say they were made from (inputs, config,
code), and every matched copy's recorded made-from key. It reports every problem, one line each, rather than stopping at the
first, and changes nothing.
"""

from pathlib import Path

from skymatchflow.errors import InputError
from skymatchflow.io.codeid import package_digest
from skymatchflow.io.fitsseal import fits_is_sound
from skymatchflow.io.stagefiles import sha256_file
from skymatchflow.jobs.plans import batch_of_pair
from skymatchflow.products.graph import read_pairs
from skymatchflow.products.images import INPUT_STATES, PRODUCTS, product_is_sound, product_path, read_input_states
from skymatchflow.products.members import MemberKeys, pair_key
from skymatchflow.products.store import STORE_DIR, read_sealed

REPAIR = "run: snakemake"
TABLES = ("sky.ecsv", "pair_differences.ecsv")


class Audit:
    """Problems found (one line each) and what was checked."""

    def __init__(self):
        self.problems = []
        self.products = 0
        self.inputs = set()

    def problem(self, path, reason):
        self.problems.append(f"{path}: {reason}")

    def summary(self):
        if self.problems:
            return f"audit: {len(self.problems)} problem{'s' * (len(self.problems) != 1)}"
        return f"audit: OK ({self.products} products, {len(self.inputs)} inputs)"


def _holders(audit, results, images):
    """{image: batch directory} from the batch directories' own records."""
    holder = {}
    for batch_dir in sorted(Path(results, "images").glob("i*")):
        states = read_input_states(batch_dir)
        if states is None:
            audit.problem(batch_dir / INPUT_STATES, f"missing or damaged; {REPAIR} --forcerun {batch_dir}")
            continue
        holder.update({image: str(batch_dir) for image in states})
    for image in images:
        if image not in holder:
            audit.problem(f"image {image}", f"has no products under {results}/images; {REPAIR}")
    return holder


def _audit_images(audit, cfg, results):
    made_from = cfg["made_from"]
    products = [p for p in PRODUCTS if "sky" in cfg["products"] or p == "footprint"]  # 'user': footprints only
    holder = _holders(audit, results, made_from["images"])
    member_keys = MemberKeys(made_from, {image: {"batch_dir": d} for image, d in holder.items()})
    current = {}
    for image, batch_dir in holder.items():
        if image not in made_from["images"]:
            continue
        states = member_keys.states(image)
        for state in states.values():
            path = state["path"]
            audit.inputs.add(path)
            try:
                current[path] = current.get(path) or sha256_file(path)
            except OSError as err:
                audit.problem(path, f"cannot be read ({err.strerror or err}); {REPAIR}")
                continue
            if current[path] != state["sha256"]:
                audit.problem(path, f"changed since the products of image {image} were made; {REPAIR}")
        keys = member_keys.keys(image)
        for product in products:
            audit.products += 1
            path = product_path(batch_dir, image, product)
            if not product_is_sound(path, product, keys[product]):
                reason = "missing" if not path.exists() else "damaged or made from other inputs, parameters or code"
                audit.problem(path, f"{reason}; {REPAIR} --forcerun {batch_dir}")
    return member_keys, current


def _audit_pairs(audit, cfg, results, member_keys):
    pairs_path = Path(results, "overlaps", "pairs.ecsv")
    try:
        pairs = read_pairs(pairs_path)
    except (OSError, ValueError, KeyError, InputError):
        audit.problem(pairs_path, f"missing or unreadable; {REPAIR}")
        return
    plans_dir = Path(results, "overlaps", "batches")
    try:
        if not plans_dir.is_dir():
            raise InputError(plans_dir, "missing")
        in_batch = batch_of_pair(plans_dir)  # the pair batches as the plans decided them
    except InputError as err:
        audit.problem(err.source, f"missing or damaged; {REPAIR} --forcerun overlap_graph")
        return
    for pair in pairs:
        audit.products += 1
        if pair["pair"] not in in_batch:
            audit.problem(plans_dir, f"no plan holds pair {pair['pair']}; {REPAIR} --forcerun overlap_graph")
            continue
        path = Path(results, "pairs", in_batch[pair["pair"]], f"{pair['pair']}.json")
        try:
            key = pair_key(pair, cfg["pair_stat"], member_keys)
        except (InputError, KeyError):
            audit.problem(path, f"its images' products are not sound; {REPAIR}")
            continue
        if read_sealed(path, key) is None:
            reason = "missing" if not path.exists() else "damaged or made from other inputs, parameters or code"
            audit.problem(path, f"{reason}; {REPAIR} --forcerun {path.parent}")


def _audit_store(audit, store):
    """Every stored product's own seal (its key is its name)."""
    for path in sorted(Path(store).glob("*/*/*")) + sorted(Path(store).glob("graph*/*.json")):  # graph, graph_tables
        if path.name.startswith(".") or not path.is_file():
            continue
        key = path.name.split(".")[0]
        sound = fits_is_sound(path, key) if path.suffix == ".fits" else read_sealed(path, key) is not None
        if not sound:
            audit.problem(path, "damaged (its seal does not hold); delete it, then run: snakemake")


def _audit_tables(audit, cfg, results, current):
    from astropy.table import Table

    for name in TABLES:
        path = Path(results, name)
        try:
            meta = Table.read(path, format="ascii.ecsv").meta
        except (OSError, ValueError):
            audit.problem(path, f"missing or unreadable; {REPAIR}")
            continue
        if meta.get("software", {}).get("skymatchflow_code") != package_digest():
            audit.problem(path, f"made by other code than this checkout's; {REPAIR}")
        if dict(meta.get("config", {})) != cfg["config"]:
            audit.problem(path, f"made with another config; {REPAIR}")
        recorded = dict(meta.get("inputs", {}))
        if set(recorded) != set(cfg["made_from"]["images"]):
            audit.problem(path, f"made from other images than the config names; {REPAIR}")
        for image, sha in recorded.items():
            spec = cfg["made_from"]["images"].get(image)
            if spec and current.get(spec["file"]) not in (None, sha):
                audit.problem(path, f"made from other bytes of {spec['file']}; {REPAIR}")


def _audit_matched(audit, cfg, results, current):
    """Every matched copy under ``results``/matched against the sky table, the input bytes and the code it records."""
    from astropy.table import Table

    from skymatchflow.stages.apply_sky import matched_identity, recorded_identity

    copies = sorted(path for path in Path(results, "matched").glob("*") if path.is_file())
    if not copies:
        return
    sources = {Path(spec["file"]).name: spec["file"] for spec in cfg["made_from"]["images"].values()}
    try:
        sky_key = Table.read(Path(results, "sky.ecsv"), format="ascii.ecsv").meta.get("made_from_key")
    except (OSError, ValueError):
        sky_key = None  # reported with the tables
    for path in copies:
        source = sources.get(path.name)
        if source is None:
            audit.problem(path, "a copy of no current input; delete it")
            continue
        audit.products += 1
        recorded = recorded_identity(path)
        if recorded is None:
            audit.problem(path, "records no made-from key (damaged, or made by an older version); run: snakemake matched")
            continue
        if recorded["code"] != package_digest():
            audit.problem(path, "made by other code than this checkout's; run: snakemake matched")
            continue
        try:
            current[source] = current.get(source) or sha256_file(source)
        except OSError:
            continue  # reported with the images
        if recorded["key"] != matched_identity(sky_key, current[source], cfg["skymethod"], cfg["subtract"])["key"]:
            audit.problem(path, "made from another sky table, other input bytes or another method; run: snakemake matched")


def audit_results(cfg, results="results", store=STORE_DIR):
    """An Audit of everything under ``results`` against the current inputs, config (``cfg``: the solve's params) and code."""
    audit = Audit()
    member_keys, current = _audit_images(audit, cfg, results)
    if "match" in cfg["skymethod"]:
        _audit_pairs(audit, cfg, results, member_keys)
    _audit_store(audit, store)
    _audit_tables(audit, cfg, results, current)
    _audit_matched(audit, cfg, results, current)
    return audit
