"""Products: the one home of what the stages make and read back.

``store``: keys, seals, links into batch directories and the one retention
rule; ``images``: the image products' kinds, paths, keys and batch records
(``previews``: the previews' parameters); ``members``: a pair's key from its
members' keys, and the one-line errors of a product or input that is not as
expected; ``graph``: the overlap graph's tables read back verified;
``checked``: the solve's checked reads. Stages ask here for products; they
compute, this files.
"""

# the modules other sub-packages, the entry scripts and the Snakefile use (tests/unit/test_layers.py); the rest are internal
__all__ = ["checked", "graph", "images", "members", "previews", "ruleparams", "store"]
