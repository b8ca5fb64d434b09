"""dqbits semantics: astropy.nddata.bitmask as the JWST step uses it."""

import numpy as np
import pytest
from astropy.nddata.bitmask import bitfield_to_boolean_mask, interpret_bit_flags

from skymatchflow.stats.dqflags import JWST_PIXEL_FLAGS, good_pixel_mask, interpret_dqbits

# dq values: 0, DO_NOT_USE, SATURATED, JUMP_DET, NON_SCIENCE, DO_NOT_USE+NON_SCIENCE, SATURATED+JUMP_DET
DQ = np.array([0, 1, 2, 4, 512, 513, 6], dtype=np.uint32)
SCI = np.zeros(DQ.shape, dtype=np.float32)


@pytest.mark.parametrize(
    "dqbits, expected",
    [
        ("~DO_NOT_USE+NON_SCIENCE", [1, 0, 1, 1, 0, 0, 1]),  # jwst 3.0 default
        ("0", [1, 0, 0, 0, 0, 0, 0]),  # old default: only dq == 0 is good
        (0, [1, 0, 0, 0, 0, 0, 0]),
        ("~0", [1, 1, 1, 1, 1, 1, 1]),
        (None, [1, 1, 1, 1, 1, 1, 1]),
        ("None", [1, 1, 1, 1, 1, 1, 1]),
        ("INDEF", [1, 1, 1, 1, 1, 1, 1]),
        ("", [1, 1, 1, 1, 1, 1, 1]),
        ("4", [1, 0, 0, 1, 0, 0, 0]),
        ("JUMP_DET", [1, 0, 0, 1, 0, 0, 0]),
        ("DO_NOT_USE,NON_SCIENCE", [1, 1, 0, 0, 1, 1, 0]),
        ("DO_NOT_USE|NON_SCIENCE", [1, 1, 0, 0, 1, 1, 0]),
        ("(DO_NOT_USE+SATURATED)", [1, 1, 1, 0, 0, 0, 0]),
        ("~DO_NOT_USE", [1, 0, 1, 1, 1, 0, 1]),
        ("6", [1, 0, 1, 1, 0, 0, 1]),  # a single value need not be a power of 2
    ],
)
def test_mask_semantics(dqbits, expected):
    mask = good_pixel_mask(SCI, DQ, interpret_dqbits(dqbits))
    assert mask.astype(int).tolist() == expected


@pytest.mark.parametrize("dqbits", ["~DO_NOT_USE+NON_SCIENCE", "0", "~0", "4", "JUMP_DET", "~DO_NOT_USE", "1,2,512"])
def test_equals_astropy_directly(dqbits):
    """The mask is exactly what astropy gives with the JWST flag map."""
    bits = interpret_bit_flags(dqbits, flag_name_map=JWST_PIXEL_FLAGS)
    dq = np.random.default_rng(1).integers(0, 2**12, 1000).astype(np.uint32)
    expected = bitfield_to_boolean_mask(dq, bits, good_mask_value=True, dtype=bool)
    assert np.array_equal(good_pixel_mask(np.zeros(1000, np.float32), dq, interpret_dqbits(dqbits)), expected)


def test_non_finite_pixels_are_never_good():
    sci = np.array([0, np.nan, np.inf, -np.inf, 1], dtype=np.float32)
    dq = np.zeros(5, dtype=np.uint32)
    for bits in (None, 0, -1):
        assert good_pixel_mask(sci, dq, bits).tolist() == [True, False, False, False, True]


def test_no_dq_array_means_finite_only():
    sci = np.array([0, np.nan], dtype=np.float32)
    assert good_pixel_mask(sci, None, 0).tolist() == [True, False]


def test_flag_names_match_stdatamodels():
    from stdatamodels.jwst.datamodels import dqflags
    assert JWST_PIXEL_FLAGS == dict(dqflags.pixel)


@pytest.mark.parametrize("bad", ["FOO", "do_not_use", "3,4", "~", "1+FOO", True, 1.5, "~DO_NOT_USE+4"])
def test_bad_dqbits_raise_value_error_naming_the_value(bad):
    with pytest.raises(ValueError, match="dqbits"):
        interpret_dqbits(bad)
