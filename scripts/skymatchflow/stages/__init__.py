"""One module per workflow stage (rule): what it reads, computes and writes.

image_batch (with image_products, image_sky, preview), overlap_graph,
pair_batch, solve_sky, apply_sky, audit. They compute; they ask ``products/``
for the products they make and read. The rule entry points in ``scripts/`` only call these.
"""
