# csrc: t4_codes.c t4_t6_encode.c t4_t6_decode.c
"""Cython wrapper of the C T.4/T.6 coder (csrc/t4_*.c).

One C call codes or decodes a whole page with the GIL released.  This layer
only moves memory: the Python facade ``faxengine.t4.codec`` checks arguments,
turns error codes into :class:`~faxengine.t4.codec.T4Error` and documents
the behaviour.  Images cross as C-contiguous uint8 arrays, 0 = white,
1 = black, one byte per pel.
"""
from libc.stdint cimport uint8_t
from libc.stdlib cimport free

import numpy as np

cdef extern from "t4_codes.h":
    int t4_codes_init()

cdef extern from "t4_t6_encode.h":
    long t4_t6_encode_page(const uint8_t *image, Py_ssize_t stride, int width, int height,
                           int coding, int k, long min_bits_per_line, int flags,
                           uint8_t **out) nogil
    int T4_ENCODE_NO_RTC

cdef extern from "t4_t6_decode.h":
    ctypedef struct t4_t6_decode_state_t:
        pass
    t4_t6_decode_state_t *t4_t6_decode_init(int coding, int width, const uint8_t *data,
                                            size_t len, int lenient, int height) nogil
    int t4_t6_decode_rows(t4_t6_decode_state_t *s, uint8_t *image, Py_ssize_t stride,
                          int first_row, int max_rows) nogil
    int t4_t6_decode_status(const t4_t6_decode_state_t *s) nogil
    int t4_t6_decode_error(const t4_t6_decode_state_t *s, int *line, long *bit) nogil
    void t4_t6_decode_bad_lines(const t4_t6_decode_state_t *s, int *count, int *longest_run) nogil
    void t4_t6_decode_free(t4_t6_decode_state_t *s) nogil
    int T4_DECODE_MORE
    int T4_DECODE_END
    int T4_DECODE_ERROR

if t4_codes_init() != 0:
    raise ImportError("faxengine.t4: the built-in T.4 code tables are not prefix free")

# Rows a decode starts with when the height is not known: a fine A4 page.
cdef int FIRST_GUESS_ROWS = 2400


def encode_page(const uint8_t[:, ::1] image, int coding, int k, long min_bits_per_line,
                bint rtc):
    """Code one page; returns bytes.  image: rows of 0/1 bytes."""
    cdef int height = image.shape[0]
    cdef int width = image.shape[1]
    cdef const uint8_t *pels = &image[0, 0] if height > 0 else NULL
    cdef uint8_t *out = NULL
    cdef long n
    cdef int flags = 0 if rtc else T4_ENCODE_NO_RTC
    with nogil:
        n = t4_t6_encode_page(pels, width, width, height, coding, k, min_bits_per_line,
                              flags, &out)
    if n == -1:
        raise MemoryError("out of memory while coding a page")
    if n < 0:
        raise ValueError("bad arguments to the T.4 encoder")
    try:
        return (<char *>out)[:n]
    finally:
        free(out)


def decode_page(const uint8_t[::1] data, int width, int coding, int height, int max_rows,
                bint lenient, int rows_bound):
    """Decode one page.

    Returns (image uint8 array, (error code, line, bit) or None,
    (bad lines, longest run)).  height 0 = unknown; max_rows
    bounds the rows when the height is unknown; rows_bound is an upper bound
    of the rows the data can hold, used for the first allocation only.
    """
    cdef size_t nbytes = data.shape[0]
    cdef const uint8_t *bytes_ptr = &data[0] if nbytes > 0 else <const uint8_t *>b""
    cdef t4_t6_decode_state_t *s = t4_t6_decode_init(coding, width, bytes_ptr, nbytes,
                                                     lenient, height)
    if s == NULL:
        raise MemoryError("out of memory (or bad arguments) starting a T.4 decoder")
    cdef int limit = height if height > 0 else max_rows
    cdef int cap = min(limit, FIRST_GUESS_ROWS if height == 0 else height, max(rows_bound, 1))
    cdef int row = 0
    cdef int status
    cdef int err_line = 0, bad = 0, longest = 0, err = 0
    cdef long err_bit = 0
    cdef uint8_t[:, ::1] view
    out = np.zeros((max(cap, 1), width), dtype=np.uint8)
    try:
        while True:
            view = out
            with nogil:
                row = t4_t6_decode_rows(s, &view[0, 0], width, row, cap)
                status = t4_t6_decode_status(s)
            if status != T4_DECODE_MORE or row >= limit:
                break
            cap = min(limit, cap * 2)
            # realloc: often in place; numpy zeroes the new rows
            view = None
            out.resize((cap, width), refcheck=False)
        err = t4_t6_decode_error(s, &err_line, &err_bit)
        t4_t6_decode_bad_lines(s, &bad, &longest)
    finally:
        t4_t6_decode_free(s)
    view = None
    if row < out.shape[0]:
        # realloc shrinks in place: no copy, and no rows kept alive for nothing
        out.resize((row, width), refcheck=False)
    image = out
    error = (err, err_line, err_bit) if status == T4_DECODE_ERROR else None
    return image, error, (bad, longest)
