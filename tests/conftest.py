"""Fixtures shared by every test folder (helpers live in the helpers package)."""

import pytest

from helpers.images import write_image


@pytest.fixture
def image_factory(tmp_path):
    """Call with a file name and write_image keywords; returns the path."""

    def make(name, **kwargs):
        return write_image(tmp_path / name, **kwargs)

    return make
