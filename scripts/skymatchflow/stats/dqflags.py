"""DQ bit flags: the JWST pixel-flag mnemonics and the good-pixel mask.

The step interprets ``dqbits`` with ``astropy.nddata.bitmask`` and the JWST
pixel flag names (stdatamodels ``dqflags.pixel``); we do exactly the same so
that a ``dqbits`` string means here what it means in the JWST pipeline.
"""

import numpy as np
from astropy.nddata.bitmask import bitfield_to_boolean_mask, interpret_bit_flags

# Values of stdatamodels 6.0.0 ``jwst.datamodels.dqflags.pixel`` (a test keeps
# them in step with the installed stdatamodels). The step passes this plain
# dict as ``flag_name_map``, so we do too.
JWST_PIXEL_FLAGS = {
    "GOOD": 0,
    "DO_NOT_USE": 1 << 0,
    "SATURATED": 1 << 1,
    "JUMP_DET": 1 << 2,
    "DROPOUT": 1 << 3,
    "OUTLIER": 1 << 4,
    "PERSISTENCE": 1 << 5,
    "AD_FLOOR": 1 << 6,
    "CHARGELOSS": 1 << 7,
    "RESERVED": 1 << 8,
    "NON_SCIENCE": 1 << 9,
    "DEAD": 1 << 10,
    "HOT": 1 << 11,
    "WARM": 1 << 12,
    "LOW_QE": 1 << 13,
    "RC": 1 << 14,
    "TELEGRAPH": 1 << 15,
    "NONLINEAR": 1 << 16,
    "BAD_REF_PIXEL": 1 << 17,
    "NO_FLAT_FIELD": 1 << 18,
    "NO_GAIN_VALUE": 1 << 19,
    "NO_LIN_CORR": 1 << 20,
    "NO_SAT_CHECK": 1 << 21,
    "UNRELIABLE_BIAS": 1 << 22,
    "UNRELIABLE_DARK": 1 << 23,
    "UNRELIABLE_SLOPE": 1 << 24,
    "UNRELIABLE_FLAT": 1 << 25,
    "OPEN": 1 << 26,
    "ADJ_OPEN": 1 << 27,
    "FLUX_ESTIMATED": 1 << 28,
    "MSA_FAILED_OPEN": 1 << 29,
    "OTHER_BAD_PIXEL": 1 << 30,
    "REFERENCE_PIXEL": 1 << 31,
}


def interpret_dqbits(dqbits):
    """Turn the config's ``dqbits`` into astropy's integer form (or None).

    Integers pass through; strings are parsed as the JWST step parses them
    (``,`` ``+`` ``|`` lists, a leading ``~``, JWST mnemonics). ``None`` means
    "ignore DQ, use only finite pixels". Raises ValueError on nonsense.
    """
    if isinstance(dqbits, bool):
        raise ValueError(f"dqbits must be an integer, a string or null, not {dqbits!r}")
    try:
        return interpret_bit_flags(dqbits, flag_name_map=JWST_PIXEL_FLAGS)
    except KeyError as err:
        raise ValueError(
            f"dqbits {dqbits!r}: unknown DQ flag name {err.args[0]!r} "
            f"(JWST names are upper case, e.g. DO_NOT_USE, NON_SCIENCE)"
        ) from None
    except (TypeError, ValueError) as err:
        raise ValueError(f"dqbits {dqbits!r}: {err}") from None


def good_pixel_mask(sci, dq, bits):
    """True where a pixel may be used: DQ acceptable under ``bits`` AND finite SCI.

    ``bits`` is the output of :func:`interpret_dqbits`; with ``None`` (or no
    DQ array at all) only finiteness counts, as in the JWST step.
    """
    finite = np.isfinite(sci)
    if bits is None or dq is None:
        return finite
    return bitfield_to_boolean_mask(dq, bits, good_mask_value=True, dtype=bool) & finite
