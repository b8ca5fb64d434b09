"""File names of the embedded demo (light: the Snakefile needs them at DAG time).

The generator itself (demo.py) imports most of astropy; only the names are
needed to decide whether a config's inputs are the demo's files.
"""

PROGRAM, OBSERVATION, VISIT = "01234", "001", "001"
VISIT_GROUP, SEQ_ID, ACT_ID = "01", "1", "01"
DETECTOR_NAMES = ("nrca1", "nrca2", "nrca3", "nrca4")


def demo_file_names(n_exposures: int = 4, n_detectors: int = 4) -> list[str]:
    """Base names of the demo files, exposure-major, JWST naming convention.

    ``jw<program><obs><visit>_<visitgroup><seq><activity>_<exposure>_<det>_cal.fits``
    """
    check_counts(n_exposures, n_detectors)
    dets = list(DETECTOR_NAMES)[:n_detectors]
    return [
        f"jw{PROGRAM}{OBSERVATION}{VISIT}_{VISIT_GROUP}{SEQ_ID}{ACT_ID}_"
        f"{k + 1:05d}_{det}_cal.fits"
        for k in range(n_exposures)
        for det in dets
    ]


def check_counts(n_exposures: int, n_detectors: int) -> None:
    if not (isinstance(n_exposures, int) and 1 <= n_exposures <= 99):
        raise ValueError(f"n_exposures must be an int in 1..99, got {n_exposures!r}")
    if not (isinstance(n_detectors, int) and 1 <= n_detectors <= len(DETECTOR_NAMES)):
        raise ValueError(
            f"n_detectors must be an int in 1..{len(DETECTOR_NAMES)}, got {n_detectors!r}"
        )
