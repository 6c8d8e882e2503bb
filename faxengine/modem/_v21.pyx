# csrc: v21tx.c v21rx.c dsp_carrier.c
"""Compiled core of faxengine.modem.v21: the V.21 FSK transmitter and receiver
in C (csrc/v21tx.c, csrc/v21rx.c); the Python facade is faxengine/modem/v21.py."""
import numpy as np

from faxengine.modem.errors import ModemError

cimport numpy as cnp
from libc.stdint cimport int16_t, uint8_t
from libc.stdlib cimport free

from faxengine.modem.blockio cimport int16_samples, scratch_room, scratch_t, uint8_array

cnp.import_array()


cdef extern from "v21tx.h" nogil:
    int V21TX_RAMP_SAMPLES
    int V21TX_MAX_SAMPLES_PER_BIT
    ctypedef struct v21tx_state_t:
        pass
    v21tx_state_t *v21tx_init(v21tx_state_t *s, double mark_hz, double space_hz, double amp)
    void v21tx_restart(v21tx_state_t *s)
    int v21tx_free(v21tx_state_t *s)
    int v21tx_tx(v21tx_state_t *s, const uint8_t *bits, int nbits, int16_t *amp)
    int v21tx_finish(v21tx_state_t *s, int16_t *amp)


cdef extern from "v21rx.h" nogil:
    ctypedef struct v21rx_state_t:
        int carrier
        long bits_out
    v21rx_state_t *v21rx_init(v21rx_state_t *s, double mark_hz, double space_hz,
                              double on_level, double off_level)
    void v21rx_restart(v21rx_state_t *s)
    int v21rx_free(v21rx_state_t *s)
    int V21RX_MAX_BITS(int len)
    int v21rx_rx(v21rx_state_t *s, const int16_t *amp, int len, uint8_t *bits)
    int v21rx_rx_fillin(v21rx_state_t *s, int len, uint8_t *bits)
    double v21rx_power(const v21rx_state_t *s)


cdef class V21TxCore:
    """Bits in, int16 samples out; see csrc/v21tx.h."""
    cdef v21tx_state_t s

    def __cinit__(self, double mark_hz, double space_hz, double amp):
        v21tx_init(&self.s, mark_hz, space_hz, amp)

    def __dealloc__(self):
        v21tx_free(&self.s)

    def restart(self):
        v21tx_restart(&self.s)

    def modulate(self, const uint8_t[::1] bits):
        cdef int n = bits.shape[0]
        cdef int produced = 0
        out = np.empty(V21TX_MAX_SAMPLES_PER_BIT * n, dtype=np.int16)
        cdef int16_t[::1] o = out
        if n > 0:
            with nogil:
                produced = v21tx_tx(&self.s, &bits[0], n, &o[0])
        return out[:produced]

    def finish(self):
        out = np.empty(V21TX_RAMP_SAMPLES, dtype=np.int16)
        cdef int16_t[::1] o = out
        v21tx_finish(&self.s, &o[0])
        return out


cdef class V21RxCore:
    """int16 samples in, bits out; see csrc/v21rx.h."""
    cdef v21rx_state_t s
    cdef scratch_t bits       # the bits of one call, before their array

    def __cinit__(self, double mark_hz, double space_hz, double on_level, double off_level):
        self.bits.data = NULL
        self.bits.size = 0
        v21rx_init(&self.s, mark_hz, space_hz, on_level, off_level)

    def __dealloc__(self):
        v21rx_free(&self.s)
        free(self.bits.data)

    def restart(self):
        v21rx_restart(&self.s)

    def demodulate(self, samples):
        """int16 samples (1-D) in, the bits sliced from them out (uint8)."""
        cdef cnp.ndarray a = int16_samples(samples)
        return self._run(<const int16_t *> cnp.PyArray_DATA(a), cnp.PyArray_DIM(a, 0))

    cdef object _run(self, const int16_t *p, Py_ssize_t n):
        cdef int nbits = 0
        if n == 0:
            return uint8_array(NULL, 0)
        if n > 1000000000:
            raise ModemError(f"V.21 receiver: a block of {n} samples is too long; give at most 1000000000 at a time")
        cdef uint8_t *o = scratch_room(&self.bits, V21RX_MAX_BITS(<int> n))
        with nogil:
            nbits = v21rx_rx(&self.s, p, <int> n, o)
        return uint8_array(o, nbits)

    def fillin(self, int n):
        """n samples lost: the bits sliced over the hole (csrc/v21rx.h)."""
        cdef int nbits = 0
        cdef uint8_t *o
        if n > 1000000000:
            raise ModemError(f"V.21 receiver: a hole of {n} samples is too long; give at most 1000000000 at a time")
        if n > 0:
            o = scratch_room(&self.bits, V21RX_MAX_BITS(n))
            with nogil:
                nbits = v21rx_rx_fillin(&self.s, n, o)
            return uint8_array(o, nbits)
        return uint8_array(NULL, 0)

    @property
    def carrier_present(self):
        return bool(self.s.carrier)

    @property
    def power(self):
        return v21rx_power(&self.s)

    @property
    def bits_out(self):
        return self.s.bits_out
