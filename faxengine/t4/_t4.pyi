"""Type stub of the compiled T.4/T.6 coder (see _t4.pyx)."""
import numpy as np
import numpy.typing as npt

FRAMING: dict[int, int]

def encode_page(image: npt.NDArray[np.uint8], coding: int, k: int, min_bits_per_line: int,
                rtc: bool, framing: int = 0) -> bytes: ...
def decode_page(data: bytes, width: int, coding: int, height: int, max_rows: int,
                lenient: bool, rows_bound: int, framing: int = 0
                ) -> tuple[npt.NDArray[np.uint8], tuple[int, int, int] | None,
                           tuple[int, int]]: ...

class StreamDecoder:
    rows: int
    ended: bool
    def __init__(self, width: int, coding: int, max_rows: int, framing: int = 0,
                 rows: int = 4096) -> None: ...
    def feed(self, piece: bytes) -> None: ...
    def decode(self, most: int) -> int: ...
    def finish(self) -> tuple[npt.NDArray[np.uint8], None, tuple[int, int]]: ...
