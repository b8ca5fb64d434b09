"""The check of everything the overlap graph and the solve read: present, intact, made from the current inputs.

Snakemake re-runs a job when its declared inputs or parameters change, but
a file deleted or edited by hand inside a batch directory, or an input
replaced while a run goes on, escapes it. So these jobs recompute every
product key they expect (from the image specs, the parameters and the input
checksums the image batches recorded, after checking that each input still
holds those bytes) and read only records sealed under those keys. Anything
else stops the job with one line naming the file and the command that
repairs it.
"""

from pathlib import Path

from skymatchflow.errors import InputError
from skymatchflow.products.images import batch_dir_of_each_image, product_path, read_skipped
from skymatchflow.products.members import MemberKeys, check_unchanged, pair_key, unsound_product
from skymatchflow.products.store import read_sealed


def _checked_record(path, key, batch_dir):
    record = read_sealed(path, key)
    if record is None:
        raise unsound_product(path, batch_dir)
    return record


def read_checked_images(made_from, batch_dirs, products):
    """({product: [records in input order]}, MemberKeys) for the images of ``made_from``.

    ``batch_dirs``: the image batch directories (declared inputs) that hold them.
    Images the batches skipped as bad (``on_bad_input: skip``) have no records.
    """
    skipped = read_skipped(batch_dirs)
    batch_dirs = batch_dir_of_each_image(batch_dirs, made_from["images"])
    member_keys = MemberKeys(made_from, {image: {"batch_dir": d} for image, d in batch_dirs.items()})
    records = {product: [] for product in products}
    for image, batch_dir in batch_dirs.items():
        if image in skipped:
            continue
        for state in member_keys.states(image).values():
            check_unchanged(image, state)
        keys = member_keys.keys(image)
        for product in products:
            path = product_path(batch_dir, image, product)
            records[product].append(_checked_record(path, keys[product], batch_dir))
    return records, member_keys


def read_checked_pairs(graph, plans_dir, pair_dirs, stat_params, member_keys):
    """Every pair record of the overlap graph, each checked against the key its members give.

    ``graph``: the pair list and the batch of each pair as the overlap graph
    wrote them (products/graph.read_graph of its tables and ``plans_dir``).
    Each pair is read from the pair batch its plan put it in (``pair_dirs``:
    the pair batch directories); records in pair list order within batches,
    batches in order of first use.
    """
    in_batch = graph["batch_of_pair"]
    batches = {}
    for pair in graph["pairs"]:
        if pair["pair"] not in in_batch:
            raise InputError(plans_dir, f"no plan holds pair {pair['pair']}; run: snakemake --forcerun overlap_graph")
        batches.setdefault(in_batch[pair["pair"]], []).append(pair)
    dirs = {Path(d).name: d for d in pair_dirs}
    records = []
    for batch, pairs in batches.items():
        if batch not in dirs:
            raise InputError(f"pair batch {batch}", "is not among the solve's inputs; run: snakemake")
        batch_dir = dirs[batch]
        for pair in pairs:
            path = Path(batch_dir) / f"{pair['pair']}.json"
            records.append(_checked_record(path, pair_key(pair, stat_params, member_keys), batch_dir))
    return records
