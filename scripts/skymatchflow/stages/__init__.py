"""One module per workflow stage (rule): what it reads, computes and writes.

image_batch (with _image_products, _image_sky, preview), overlap_graph,
pair_batch, solve_sky, apply_sky (with _apply_plane, _apply_jwst), audit: in
data order, each importing only the stages before it. They compute; they ask
``products/`` for the products they make and read. The rule entry points in ``scripts/`` only call these.
"""

# the modules other sub-packages, the entry scripts and the Snakefile use (tests/unit/test_layers.py); the rest are internal
__all__ = ["apply_sky", "audit", "image_batch", "overlap_graph", "pair_batch", "preview", "solve_sky"]
