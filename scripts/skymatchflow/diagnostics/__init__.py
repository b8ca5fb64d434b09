"""Pictures of a sky match, made from stage files only (never the full images).

One module per figure (footprint map, overlap graph, residuals, mosaic
preview, demo truth), the summary table, and the shared pieces: the stage
files as loaded once (``_stagedata``) and the tangent-plane map (``_skymap``).
``stage.make_diagnostics`` writes them all.
"""

# the modules other sub-packages, the entry scripts and the Snakefile use (tests/unit/test_layers.py); the rest are internal
__all__ = ["figurestore", "mapstage", "stage", "truth"]
