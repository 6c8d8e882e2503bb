import pytest

import faxengine
from faxengine.errors import FaxError
from faxengine.modem import ModemError
from faxengine.t4.page import Page, resolution_name


def test_error_family_roots_at_faxerror():
    assert issubclass(ModemError, FaxError)
    assert faxengine.FaxError is FaxError


def test_page_normalises_image_and_names_resolution():
    import numpy as np

    page = Page(np.zeros((3, 5), dtype=np.uint8), 204, 98)
    assert page.image.dtype == bool and page.width == 5 and page.height == 3
    assert page.resolution == "standard"
    assert resolution_name(203.2, 195.58) == "fine"
    assert resolution_name(150, 150) is None
    with pytest.raises(ValueError, match="2-D"):
        Page(np.zeros(4, dtype=bool))


def test_modem_names_are_lazy_and_unknown_names_fail_clearly():
    import faxengine.modem as modem

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        modem.Nope
