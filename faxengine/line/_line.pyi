"""Type stub of the compiled stages of the line model (``_line.pyx``)."""
import numpy as np
import numpy.typing as npt

SHIFT_DELAY: int
RESAMPLE_DELAY: int

class _InPlace:
    def process(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...

class Shift(_InPlace):
    def __init__(self, offset_hz: float, sample_rate: float = 8000.0) -> None: ...

class Biquads(_InPlace):
    def __init__(self, sos: npt.ArrayLike) -> None: ...

class Noise(_InPlace):
    def __init__(self, seed: int, sigma: float) -> None: ...

class Resampler:
    def __init__(self, ratio: float) -> None: ...
    def process(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...

def to_int16(x: npt.ArrayLike) -> tuple[npt.NDArray[np.int16], int]: ...
