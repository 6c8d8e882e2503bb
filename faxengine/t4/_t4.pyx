# csrc: t4_codes.c t4_t6_encode.c t4_t6_decode.c t4_eol.c
"""Cython wrapper of the C T.4/T.6 coder (csrc/t4_*.c).

One C call codes or decodes a whole page with the GIL released
(``StreamDecoder``: a page whose data come in pieces, a bounded number of
rows per call).  This layer
only moves memory (decoded pages live in pooled blocks, see pool_take): the Python facade ``faxengine.t4.codec`` checks arguments,
turns error codes into :class:`~faxengine.t4.codec.T4Error` and documents
the behaviour.  Images cross as C-contiguous uint8 arrays, 0 = white,
1 = black, one byte per pel.
"""
from cpython.buffer cimport PyBUF_FORMAT
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset

import numpy as np

from faxengine.t4.errors import T4ArgumentError

cdef extern from "t4_codes.h":
    int t4_codes_init()
    int T4_FRAME_NO_EOL
    int T4_FRAME_ALIGN_8
    int T4_FRAME_ALIGN_16

cdef extern from "t4_t6_encode.h":
    long t4_t6_encode_page(const uint8_t *image, Py_ssize_t stride, int width, int height,
                           int coding, int k, long min_bits_per_line, int flags,
                           uint8_t **out) nogil
    int T4_ENCODE_NO_RTC
    ctypedef struct t4_t6_encode_state_t:
        pass
    t4_t6_encode_state_t *t4_t6_encode_init(int width, int coding, int k,
                                            long min_bits_per_line, int flags, int *err) nogil
    int t4_t6_encode_rows(t4_t6_encode_state_t *s, const uint8_t *image, Py_ssize_t stride,
                          int rows) nogil
    int t4_t6_encode_end(t4_t6_encode_state_t *s) nogil
    size_t t4_t6_encode_take(t4_t6_encode_state_t *s, const uint8_t **data) nogil
    long t4_t6_encode_bits(const t4_t6_encode_state_t *s) nogil
    void t4_t6_encode_free(t4_t6_encode_state_t *s) nogil

cdef extern from "t4_t6_decode.h":
    ctypedef struct t4_t6_decode_state_t:
        pass
    t4_t6_decode_state_t *t4_t6_decode_init(int coding, int width, const uint8_t *data,
                                            size_t len, int lenient, int height) nogil
    int t4_t6_decode_set_framing(t4_t6_decode_state_t *s, int framing) nogil
    int t4_t6_decode_rows(t4_t6_decode_state_t *s, uint8_t *image, Py_ssize_t stride,
                          int first_row, int max_rows) nogil
    int t4_t6_decode_feed(t4_t6_decode_state_t *s, const uint8_t *data, size_t len,
                          int more) nogil
    int t4_t6_decode_status(const t4_t6_decode_state_t *s) nogil
    int t4_t6_decode_end_mark(const t4_t6_decode_state_t *s) nogil
    int t4_t6_decode_error(const t4_t6_decode_state_t *s, int *line, long *bit) nogil
    void t4_t6_decode_bad_lines(const t4_t6_decode_state_t *s, int *count, int *longest_run) nogil
    void t4_t6_decode_free(t4_t6_decode_state_t *s) nogil
    int T4_DECODE_MORE
    int T4_DECODE_END
    int T4_DECODE_ERROR
    int T4_DECODE_NEED_DATA

if t4_codes_init() != 0:
    raise ImportError("faxengine.t4: the built-in T.4 code tables are not prefix free")

# csrc/t4_codes.h T4_FRAME_*: line alignment of MH without EOLs (in bits) ->
# framing flags; 0 = lines with EOLs.
FRAMING = {1: T4_FRAME_NO_EOL, 8: T4_FRAME_NO_EOL | T4_FRAME_ALIGN_8,
           16: T4_FRAME_NO_EOL | T4_FRAME_ALIGN_16}

# Rows a decode starts with when the height is not known: a fine A4 page.
cdef int FIRST_GUESS_ROWS = 2400
# Rows cleared at a time ahead of the decoder (decode_page).
cdef int CLEAR_ROWS = 128


cdef extern from "t4_eol.h" nogil:
    long t4_eol_find(const uint8_t *bits, long n, long base, long *last_one,
                     int64_t *ends, int64_t *zeros)
    long t4_last_one(const uint8_t *bits, long n)


def eol_find(const uint8_t[::1] bits, long base, long last_one):
    """The EOLs of ``bits`` (one bit a byte) that follow ``base`` bits whose
    last 1 is at ``last_one`` (-1: none): (ends, zeros, last_one), the
    stream index of each EOL's 1 and the 0s before it (int64), and the
    stream index of the last 1 now (csrc/t4_eol.h)."""
    cdef long n = bits.shape[0]
    ends = np.empty(n // 12 + 2, np.int64)     # (t4_eol.h: one more than it can find)
    zeros = np.empty(n // 12 + 2, np.int64)
    cdef int64_t[::1] e = ends
    cdef int64_t[::1] z = zeros
    cdef long count = 0
    if n:
        with nogil:
            count = t4_eol_find(&bits[0], n, base, &last_one, &e[0], &z[0])
    return ends[:count], zeros[:count], last_one


def last_one(const uint8_t[::1] bits):
    """The index of the last 1 of ``bits`` (one bit a byte), or -1."""
    cdef long n = bits.shape[0]
    if n == 0:
        return -1
    return t4_last_one(&bits[0], n)


def encode_page(const uint8_t[:, ::1] image, int coding, int k, long min_bits_per_line,
                bint rtc, int framing=0):
    """Code one page; returns bytes.  image: rows of 0/1 bytes; framing: a
    value of FRAMING for MH without EOLs, else 0."""
    cdef int height = image.shape[0]
    cdef int width = image.shape[1]
    cdef const uint8_t *pels = &image[0, 0] if height > 0 else NULL
    cdef uint8_t *out = NULL
    cdef long n
    cdef int flags = (0 if rtc else T4_ENCODE_NO_RTC) | framing
    with nogil:
        n = t4_t6_encode_page(pels, width, width, height, coding, k, min_bits_per_line,
                              flags, &out)
    if n == -1:
        raise MemoryError("out of memory while coding a page")
    if n < 0:
        raise T4ArgumentError("bad arguments to the T.4 encoder (width 1..65535, coding"
                              " 1..3, k >= 1, min_bits_per_line >= 0, known flags)")
    try:
        return (<char *>out)[:n]
    finally:
        free(out)


cdef class StreamEncoder:
    """A page coded a few rows at a time (see faxengine.t4.codec.StreamEncoder):
    ``rows(image)`` codes the next rows, ``take()`` returns the whole octets
    coded since the last take, ``end()`` adds the end code; a take after it
    gives the rest, the last octet padded.  ``bits`` counts the bits coded,
    padding not counted."""
    cdef t4_t6_encode_state_t *s

    def __cinit__(self, int width, int coding, int k, long min_bits_per_line, bint rtc,
                  int framing=0):
        cdef int err = 0
        cdef int flags = (0 if rtc else T4_ENCODE_NO_RTC) | framing
        self.s = t4_t6_encode_init(width, coding, k, min_bits_per_line, flags, &err)
        if self.s == NULL:
            if err == -1:
                raise MemoryError("out of memory while coding a page")
            raise T4ArgumentError("bad arguments to the T.4 encoder (width 1..65535, coding"
                                  " 1..3, k >= 1, min_bits_per_line >= 0, known flags)")

    def __dealloc__(self):
        t4_t6_encode_free(self.s)
        self.s = NULL

    def rows(self, const uint8_t[:, ::1] image):
        cdef int height = image.shape[0]
        cdef int r
        if height == 0:
            return
        with nogil:
            r = t4_t6_encode_rows(self.s, &image[0, 0], image.shape[1], height)
        if r == -1:
            raise MemoryError("out of memory while coding a page")
        if r != 0:
            raise T4ArgumentError("the page was ended: no more rows")

    def end(self):
        cdef int r = t4_t6_encode_end(self.s)
        if r == -1:
            raise MemoryError("out of memory while coding a page")
        if r != 0:
            raise T4ArgumentError("the page was ended already")

    def take(self):
        cdef const uint8_t *data = NULL
        cdef size_t n = t4_t6_encode_take(self.s, &data)
        return (<const char *>data)[:n] if n else b""

    @property
    def bits(self):
        return t4_t6_encode_bits(self.s)


# Page-sized blocks kept for reuse.  A fresh block of a few MB comes from the
# kernel (mmap) and costs a page fault per 4 KB on first touch and munmap when
# freed: as much time as decoding a light page.  Pillow keeps an arena for the
# same reason.  Only touched with the GIL held.
cdef enum:
    POOL_BLOCKS = 4
cdef uint8_t *pool_block[POOL_BLOCKS]
cdef size_t pool_capacity[POOL_BLOCKS]
cdef int pool_count = 0
cdef size_t pool_bytes = 0
# At most this much is kept (a 400 dpi A4 page is 16 MB).
cdef size_t POOL_MAX_BYTES = 32 << 20


cdef uint8_t *pool_take(size_t size, size_t *capacity):
    """A block of at least size bytes (not more than about twice), or NULL."""
    global pool_count, pool_bytes
    cdef int i
    for i in range(pool_count):
        if size <= pool_capacity[i] <= 2 * size + 65536:
            block = pool_block[i]
            capacity[0] = pool_capacity[i]
            pool_bytes -= pool_capacity[i]
            pool_count -= 1
            pool_block[i] = pool_block[pool_count]
            pool_capacity[i] = pool_capacity[pool_count]
            return block
    capacity[0] = size
    return <uint8_t *>malloc(size if size > 0 else 1)


cdef void pool_give(uint8_t *block, size_t capacity):
    global pool_count, pool_bytes
    if block == NULL:
        return
    if pool_count < POOL_BLOCKS and pool_bytes + capacity <= POOL_MAX_BYTES:
        pool_block[pool_count] = block
        pool_capacity[pool_count] = capacity
        pool_bytes += capacity
        pool_count += 1
    else:
        free(block)


cdef class _PageRows:
    """The pels of a decoded page: a pooled block seen by numpy as a 2-D
    uint8 array (buffer protocol); the block returns to the pool when the
    last array using it goes away."""
    cdef uint8_t *block
    cdef size_t capacity
    cdef Py_ssize_t shape[2]
    cdef Py_ssize_t strides[2]

    def __dealloc__(self):
        pool_give(self.block, self.capacity)
        self.block = NULL

    def __getbuffer__(self, Py_buffer *view, int flags):
        view.buf = self.block
        view.obj = self
        view.len = self.shape[0] * self.shape[1]
        view.readonly = 0
        view.itemsize = 1
        view.format = NULL
        if flags & PyBUF_FORMAT:
            view.format = b"B"
        view.ndim = 2
        view.shape = self.shape
        view.strides = self.strides
        view.suboffsets = NULL
        view.internal = NULL

    def __releasebuffer__(self, Py_buffer *view):
        pass


def decode_page(const uint8_t[::1] data, int width, int coding, int height, int max_rows,
                bint lenient, int rows_bound, int framing=0):
    """Decode one page (framing: a value of FRAMING for MH without EOLs).

    Returns (image uint8 array, (error code, line, bit) or None,
    (bad lines, longest run)).  height 0 = unknown; max_rows
    bounds the rows when the height is unknown; rows_bound is an upper bound
    of the rows the data can hold, used for the first allocation only.
    """
    cdef size_t nbytes = data.shape[0]
    cdef const uint8_t *bytes_ptr = &data[0] if nbytes > 0 else <const uint8_t *>b""
    cdef int limit = height if height > 0 else max_rows
    cdef int cap = max(1, min(limit, FIRST_GUESS_ROWS if height == 0 else height,
                              max(rows_bound, 1)))
    cdef int row = 0
    cdef int cleared = 0, upto      # rows 0..cleared-1 are white or decoded
    cdef int status = T4_DECODE_MORE
    cdef int err_line = 0, bad = 0, longest = 0, err = 0
    cdef long err_bit = 0
    cdef size_t capacity = 0
    cdef size_t w = width
    cdef uint8_t *block = NULL
    cdef uint8_t *grown
    cdef uint8_t[:, ::1] small
    cdef _PageRows rows
    if not (1 <= width <= 65535 and 1 <= coding <= 3 and height >= 0 and max_rows >= 1):
        raise T4ArgumentError(f"bad arguments to the T.4 decoder: width {width} (1..65535),"
                              f" coding {coding} (1..3), height {height} (>= 0), max_rows"
                              f" {max_rows} (>= 1)")
    cdef t4_t6_decode_state_t *s = t4_t6_decode_init(coding, width, bytes_ptr, nbytes,
                                                     lenient, height)
    if s == NULL:
        raise MemoryError("out of memory starting a T.4 decoder")
    if framing and t4_t6_decode_set_framing(s, framing) != 0:
        t4_t6_decode_free(s)
        raise T4ArgumentError("bad line framing for the T.4 decoder: MH only, a value"
                              " of FRAMING")
    try:
        block = pool_take(<size_t>cap * w, &capacity)
        if block == NULL:
            raise MemoryError("out of memory for the decoded page")
        while True:
            with nogil:
                # the decoder writes black runs only: the rows start white,
                # cleared CLEAR_ROWS at a time as it reaches them (not all the
                # rows guessed: a piece of a page reaches few of them)
                while True:
                    upto = min(cap, cleared + CLEAR_ROWS)
                    memset(block + <size_t>cleared * w, 0, <size_t>(upto - cleared) * w)
                    cleared = upto
                    row = t4_t6_decode_rows(s, block, width, row, cleared)
                    status = t4_t6_decode_status(s)
                    if status != T4_DECODE_MORE or row < cleared or cleared >= cap:
                        break
            if status != T4_DECODE_MORE or row >= limit:
                break
            cap = min(limit, cap * 2)
            grown = <uint8_t *>realloc(block, <size_t>cap * w)
            if grown == NULL:
                raise MemoryError("out of memory for the decoded page")
            block = grown
            capacity = <size_t>cap * w
        err = t4_t6_decode_error(s, &err_line, &err_bit)
        t4_t6_decode_bad_lines(s, &bad, &longest)
        error = (err, err_line, err_bit) if status == T4_DECODE_ERROR else None
        if <size_t>row * w * 4 < capacity:
            # a short page: its own small array, the block back to the pool
            image = np.empty((row, width), dtype=np.uint8)
            if row > 0:
                small = image
                memcpy(&small[0, 0], block, <size_t>row * w)
            pool_give(block, capacity)
        else:
            rows = _PageRows.__new__(_PageRows)
            rows.block = block
            rows.capacity = capacity
            rows.shape[0] = row
            rows.shape[1] = width
            rows.strides[0] = width
            rows.strides[1] = 1
            image = np.asarray(rows)
        block = NULL
    finally:
        t4_t6_decode_free(s)
        if block != NULL:
            pool_give(block, capacity)
    return image, error, (bad, longest)


cdef class StreamDecoder:
    """A lenient decode of a page whose data arrive in pieces (see
    faxengine.t4.codec.StreamDecoder): ``feed`` appends data, ``decode(n)``
    decodes at most n more rows of what is in, ``finish`` decodes the rest
    as the end of the data and returns what ``decode_page`` returns.  The
    data are kept (the C decoder may look back within a line); the rows go
    into a pooled block made for ``rows`` rows (see pool_take: the memory of
    a page before, no page faults), a larger one (copied) if the page is
    longer, cleared a few rows at a time ahead of the decoder."""
    cdef t4_t6_decode_state_t *s
    cdef uint8_t *data
    cdef size_t data_len, data_cap
    cdef uint8_t *block
    cdef size_t capacity      # bytes of block
    cdef int cleared           # rows of block cleared (or decoded) so far
    cdef int width, max_rows
    cdef readonly int rows     # rows decoded so far
    cdef int first_rows        # rows of the first mapping
    cdef bint finished

    def __cinit__(self, int width, int coding, int max_rows, int framing=0, int rows=4096):
        if not (1 <= width <= 65535 and 1 <= coding <= 3 and max_rows >= 1):
            raise T4ArgumentError(f"bad arguments to the T.4 decoder: width {width}"
                                  f" (1..65535), coding {coding} (1..3), max_rows {max_rows}"
                                  f" (>= 1)")
        self.s = t4_t6_decode_init(coding, width, NULL, 0, 1, 0)
        if self.s == NULL:
            raise MemoryError("out of memory starting a T.4 decoder")
        if framing and t4_t6_decode_set_framing(self.s, framing) != 0:
            raise T4ArgumentError("bad line framing for the T.4 decoder: MH only, a value"
                                  " of FRAMING")
        t4_t6_decode_feed(self.s, NULL, 0, 1)
        self.width, self.max_rows = width, max_rows
        self.first_rows = max(1, min(rows, max_rows))

    def __dealloc__(self):
        t4_t6_decode_free(self.s)
        free(self.data)
        pool_give(self.block, self.capacity)

    def feed(self, const uint8_t[::1] piece):
        """Append the next bytes of the page's data (no decoding)."""
        cdef size_t n = piece.shape[0]
        cdef size_t cap = self.data_cap
        cdef uint8_t *grown
        if self.finished:
            raise T4ArgumentError("this StreamDecoder has finished its page")
        if n == 0:
            return
        if self.data_len + n > cap:
            cap = max(self.data_len + n, 2 * cap, 4096)
            grown = <uint8_t *>realloc(self.data, cap)
            if grown == NULL:
                raise MemoryError("out of memory for the page's data")
            self.data, self.data_cap = grown, cap
        memcpy(self.data + self.data_len, &piece[0], n)
        self.data_len += n
        t4_t6_decode_feed(self.s, self.data, self.data_len, 1)

    cdef int _room(self, int rows) except -1:
        """Make rows 0..rows-1 of the block exist, those not decoded white
        (the decoder writes black runs only)."""
        cdef size_t w = self.width
        cdef size_t need = <size_t>rows * w
        cdef size_t cap
        cdef uint8_t *bigger
        if need > self.capacity:
            bigger = pool_take(max(need, 2 * self.capacity, <size_t>self.first_rows * w), &cap)
            if bigger == NULL:
                raise MemoryError("out of memory for the decoded page")
            if self.block != NULL:
                memcpy(bigger, self.block, <size_t>self.rows * w)
                pool_give(self.block, self.capacity)
            self.block, self.capacity = bigger, cap
            self.cleared = self.rows
        if rows > self.cleared:
            memset(self.block + <size_t>self.cleared * w, 0, <size_t>(rows - self.cleared) * w)
            self.cleared = rows
        return 0

    def decode(self, int most):
        """Decode at most ``most`` more rows of the data fed; returns how many
        (fewer when the next line needs data not fed yet, or the page ended)."""
        cdef int limit = min(self.max_rows, self.rows + max(most, 0))
        cdef int before = self.rows
        if self.finished or limit <= self.rows or \
                t4_t6_decode_status(self.s) not in (T4_DECODE_MORE, T4_DECODE_NEED_DATA):
            return 0
        self._room(limit)
        with nogil:
            self.rows = t4_t6_decode_rows(self.s, self.block, self.width, self.rows, limit)
        return self.rows - before

    @property
    def ended(self):
        """True once the page has ended (RTC, EOFB, max_rows) in the data fed."""
        return t4_t6_decode_status(self.s) == T4_DECODE_END or self.rows >= self.max_rows

    @property
    def end_mark(self):
        """True once the page ended at its own mark (RTC, EOFB), not at the
        end of the data or max_rows."""
        return t4_t6_decode_end_mark(self.s) != 0

    def finish(self):
        """The data end here: decode the rest; returns (image, error, (bad
        lines, longest run)) as decode_page does."""
        cdef int status, bad = 0, longest = 0
        cdef int cap
        cdef _PageRows rows
        if self.finished:
            raise T4ArgumentError("this StreamDecoder has finished its page")
        self.finished = True
        t4_t6_decode_feed(self.s, self.data, self.data_len, 0)
        cap = max(self.rows, 1)
        while True:
            cap = min(self.max_rows, max(cap, self.rows + 256))
            self._room(cap)
            with nogil:
                self.rows = t4_t6_decode_rows(self.s, self.block, self.width, self.rows, cap)
                status = t4_t6_decode_status(self.s)
            if status != T4_DECODE_MORE or self.rows >= self.max_rows:
                break
            cap = 2 * cap
        t4_t6_decode_bad_lines(self.s, &bad, &longest)
        rows = _PageRows.__new__(_PageRows)
        rows.block, rows.capacity = self.block, self.capacity
        self.block, self.capacity = NULL, 0
        rows.shape[0] = self.rows
        rows.shape[1] = self.width
        rows.strides[0] = self.width
        rows.strides[1] = 1
        return np.asarray(rows), None, (bad, longest)
