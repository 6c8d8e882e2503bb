# csrc: line_kaiser.c line_shift.c line_resample.c line_filter.c line_noise.c
"""Compiled stages of the line model (C kernels in csrc/line_*.c).

Each class holds one C state object: ``__cinit__``/``__dealloc__`` map onto
``*_init``/``*_free`` and ``process`` hands a whole float64 block to the C
worker with the GIL released.  The facade is ``faxengine.line``.
"""
import numpy as np

cimport numpy as cnp
from libc.stdint cimport int16_t, uint64_t

cnp.import_array()


cdef extern from "line_shift.h" nogil:
    ctypedef struct line_shift_state_t:
        pass
    int LINE_SHIFT_DELAY
    void line_shift_init(line_shift_state_t *s, double offset_hz, double sample_rate)
    void line_shift_free(line_shift_state_t *s)
    int line_shift_process(line_shift_state_t *s, const double *inp, double *out, int len)

cdef extern from "line_resample.h" nogil:
    ctypedef struct line_resample_state_t:
        pass
    int LINE_RESAMPLE_HALF
    int line_resample_init(line_resample_state_t *s, double ratio)
    void line_resample_free(line_resample_state_t *s)
    int line_resample_max_out(const line_resample_state_t *s, int len)
    int line_resample_process(line_resample_state_t *s, const double *inp, int len,
                              double *out, int max_out)

cdef extern from "line_filter.h" nogil:
    ctypedef struct line_biquads_state_t:
        pass
    int LINE_BIQUADS_MAX
    int line_biquads_init(line_biquads_state_t *s, const double *sos, int sections)
    void line_biquads_free(line_biquads_state_t *s)
    int line_biquads_process(line_biquads_state_t *s, const double *inp, double *out, int len)

cdef extern from "line_noise.h" nogil:
    ctypedef struct line_noise_state_t:
        pass
    void line_noise_init(line_noise_state_t *s, uint64_t seed, double sigma)
    void line_noise_free(line_noise_state_t *s)
    int line_noise_add(line_noise_state_t *s, const double *inp, double *out, int len)
    int line_to_int16(const double *inp, int16_t *out, int len)


SHIFT_DELAY = LINE_SHIFT_DELAY
RESAMPLE_DELAY = LINE_RESAMPLE_HALF


cdef class _InPlace:
    """A stage whose C worker keeps the block's length and may run in place:
    ``process`` copies the block to float64 and hands it to ``_run``."""

    cdef void _run(self, double *x, int n) noexcept nogil:
        pass

    def process(self, x):
        out = np.array(x, dtype=np.float64, copy=True, order="C")
        cdef double[::1] o = out
        cdef int n = o.shape[0]
        if n:
            with nogil:
                self._run(&o[0], n)
        return out


cdef class Shift(_InPlace):
    """Frequency shift by ``offset_hz`` (Hilbert FIR, delay SHIFT_DELAY)."""
    cdef line_shift_state_t _s

    def __cinit__(self, double offset_hz, double sample_rate=8000.0):
        line_shift_init(&self._s, offset_hz, sample_rate)

    def __dealloc__(self):
        line_shift_free(&self._s)

    cdef void _run(self, double *x, int n) noexcept nogil:
        line_shift_process(&self._s, x, x, n)


cdef class Biquads(_InPlace):
    """A cascade of second-order sections, rows b0 b1 b2 a0 a1 a2."""
    cdef line_biquads_state_t _s

    def __cinit__(self, sos):
        cdef double[:, ::1] c = np.ascontiguousarray(sos, dtype=np.float64).reshape(-1, 6)
        cdef int sections = c.shape[0]
        cdef double dummy = 0.0
        if line_biquads_init(&self._s, &c[0, 0] if sections else &dummy, sections) != 0:
            raise ValueError(f"need 0..{LINE_BIQUADS_MAX} sections with a0 != 0, got {sections}")

    def __dealloc__(self):
        line_biquads_free(&self._s)

    cdef void _run(self, double *x, int n) noexcept nogil:
        line_biquads_process(&self._s, x, x, n)


cdef class Noise(_InPlace):
    """Seeded white Gaussian noise of standard deviation ``sigma``, added."""
    cdef line_noise_state_t _s

    def __cinit__(self, uint64_t seed, double sigma):
        line_noise_init(&self._s, seed, sigma)

    def __dealloc__(self):
        line_noise_free(&self._s)

    cdef void _run(self, double *x, int n) noexcept nogil:
        line_noise_add(&self._s, x, x, n)


cdef class Resampler:
    """Band-limited resampling by ``ratio`` = output rate / input rate."""
    cdef line_resample_state_t _s
    cdef bint _ready

    def __cinit__(self, double ratio):
        if not ratio > 0:
            raise ValueError(f"resampling ratio must be positive, not {ratio}")
        if line_resample_init(&self._s, ratio) != 0:
            raise MemoryError()
        self._ready = True

    def __dealloc__(self):
        if self._ready:
            line_resample_free(&self._s)

    def process(self, x):
        cdef double[::1] inp = np.ascontiguousarray(x, dtype=np.float64)
        cdef int n = inp.shape[0]
        cdef int max_out = line_resample_max_out(&self._s, n)
        out = np.empty(max_out, dtype=np.float64)
        cdef double[::1] o = out
        cdef int got
        cdef double dummy = 0.0
        with nogil:
            got = line_resample_process(&self._s, &inp[0] if n else &dummy, n, &o[0], max_out)
        if got < 0:
            raise MemoryError()
        return out[:got]


def to_int16(x):
    """Round float samples to int16 with saturation; returns (samples, clipped)."""
    cdef double[::1] inp = np.ascontiguousarray(x, dtype=np.float64)
    cdef int n = inp.shape[0]
    out = np.empty(n, dtype=np.int16)
    cdef int16_t[::1] o = out
    cdef int clipped = 0
    if n:
        with nogil:
            clipped = line_to_int16(&inp[0], &o[0], n)
    return out, clipped
