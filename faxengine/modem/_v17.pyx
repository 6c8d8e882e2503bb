# csrc: v17tx.c v17rx.c v17_trellis.c dsp_agc.c dsp_filter.c dsp_carrier.c dsp_equalizer.c dsp_timing.c
"""Compiled core of V.17 (see faxengine/modem/v17.py): the transmitter, the
receiver and the trellis code with its Viterbi decoder, over csrc/v17tx.c,
csrc/v17rx.c and csrc/v17_trellis.c.  Blocks go in and out as numpy arrays;
the C loops run without the GIL."""
import numpy as np

from faxengine.modem.errors import ModemError

cimport numpy as cnp
from libc.stdint cimport int8_t, int16_t, uint8_t
from libc.stdlib cimport free

from faxengine.modem.blockio cimport int16_samples, scratch_room, scratch_t, uint8_array

cnp.import_array()


cdef extern from "v17_trellis.h" nogil:
    ctypedef struct v17_point_t:
        int8_t re
        int8_t im
    ctypedef struct v17_constellation_t:
        int rate
        int bits_per_symbol
        int points
        const v17_point_t *map
        float mean_energy
        int min_distance2
    ctypedef struct v17_trellis_enc_t:
        int diff
        int conv
    ctypedef struct v17_viterbi_t:
        pass
    const v17_constellation_t *v17_constellation(int rate)
    const v17_point_t v17_abcd[4]
    void v17_trellis_enc_init(v17_trellis_enc_t *e, int diff, int conv)
    int v17_trellis_encode(v17_trellis_enc_t *e, int q)
    int v17_conv_next(int state, int y)
    int v17_viterbi_init(v17_viterbi_t *v, int rate, int depth)
    void v17_viterbi_free(v17_viterbi_t *v)
    int v17_viterbi_push(v17_viterbi_t *v, float re, float im, int *nearest_label, int *out)
    int v17_viterbi_flush(v17_viterbi_t *v, int *out)
    int v17_viterbi_grid_builds()
    int v17_trellis_check()
    int V17_VITERBI_MAX_DEPTH
    int V17_VITERBI_BLOCK


cdef extern from "v17tx.h" nogil:
    ctypedef struct v17_tx_state_t:
        pass
    v17_tx_state_t *v17_tx_init(v17_tx_state_t *s, int rate, int short_train, int tep, float power_dbm0)
    int v17_tx_restart(v17_tx_state_t *s, int rate, int short_train, int tep, float power_dbm0)
    int v17_tx_free(v17_tx_state_t *s)
    int v17_tx_max_samples(const v17_tx_state_t *s, int nbits)
    int v17_tx_finish_max_samples(const v17_tx_state_t *s)
    int v17_tx(v17_tx_state_t *s, const uint8_t *bits, int nbits, int16_t *amp, int max_len)
    int v17_tx_finish(v17_tx_state_t *s, int16_t *amp, int max_len)


cdef extern from "v17rx.h" nogil:
    ctypedef struct v17_rx_state_t:
        int state
    v17_rx_state_t *v17_rx_init(v17_rx_state_t *s, int rate)
    int v17_rx_free(v17_rx_state_t *s)
    int v17_rx_restart(v17_rx_state_t *s, int rate, int short_train)
    int v17_rx(v17_rx_state_t *s, const int16_t *amp, int len, uint8_t *bits)
    int v17_rx_fillin(v17_rx_state_t *s, int len, uint8_t *bits)
    int v17_rx_carrier_present(const v17_rx_state_t *s)
    int v17_rx_in_data(const v17_rx_state_t *s)
    float v17_rx_snr_db(const v17_rx_state_t *s)
    float v17_rx_power_dbm0(const v17_rx_state_t *s)
    float v17_rx_carrier_offset_hz(const v17_rx_state_t *s)
    int v17_rx_symbols(const v17_rx_state_t *s, float *re_im, int n)
    int V17_RX_MAX_BITS(int len)


cdef extern from "dsp_symtap.h" nogil:
    enum: DSP_SYMTAP_LEN


MAX_DEPTH = V17_VITERBI_MAX_DEPTH


cdef const v17_constellation_t *_constellation(int rate) except NULL:
    cdef const v17_constellation_t *c = v17_constellation(rate)
    if c == NULL:
        raise ModemError(f"V.17 has no rate {rate} bit/s: use one of 14400, 12000, 9600, 7200")
    return c


def bits_per_symbol(int rate):
    """Data bits carried by one symbol at this rate."""
    return _constellation(rate).bits_per_symbol


def constellation(int rate):
    """The signal points of a rate as complex128, indexed by label
    (bit 0 Y0, bit 1 Y1, bit 2 Y2, bits 3.. Q3..), on V.17's integer grid."""
    cdef const v17_constellation_t *c = _constellation(rate)
    out = np.empty(c.points, np.complex128)
    for i in range(c.points):
        out[i] = complex(c.map[i].re, c.map[i].im)
    return out


def min_distance2(int rate):
    """Least squared distance between two points of a rate's constellation,
    as csrc/v17_trellis.c tabulates it."""
    return _constellation(rate).min_distance2


def grid_builds():
    """How many Viterbi slicing grids this process has built: one per rate
    in use, however many receivers (csrc/v17_trellis.h)."""
    return v17_viterbi_grid_builds()


def trellis_tables_ok():
    """Whether the Viterbi decoder's constant trellis tables (the branches
    into each state, csrc/v17_trellis.c) agree with the encoder."""
    return v17_trellis_check() == 0


def training_points():
    """The training points A, B, C, D as complex128."""
    return np.array([complex(v17_abcd[i].re, v17_abcd[i].im) for i in range(4)])


def conv_next(int state, int y):
    """Next state of the convolutional encoder (for tests of the trellis)."""
    return v17_conv_next(state, y)


def trellis_encode(int rate, const uint8_t[::1] bits, int diff=0):
    """Labels of the symbols carrying `bits` (no scrambler): differential
    encoding from `diff`, convolutional encoder from state 0."""
    cdef const v17_constellation_t *c = _constellation(rate)
    cdef int bps = c.bits_per_symbol
    cdef Py_ssize_t n = bits.shape[0] // bps, i
    cdef int j, q
    cdef v17_trellis_enc_t e
    if bits.shape[0] % bps:
        raise ModemError(f"{bits.shape[0]} bits is not a whole number of {bps}-bit symbols")
    labels = np.empty(n, np.int32)
    cdef int[::1] lab = labels
    v17_trellis_enc_init(&e, diff, 0)
    with nogil:
        for i in range(n):
            q = 0
            for j in range(bps):
                q |= (bits[i * bps + j] & 1) << j
            lab[i] = v17_trellis_encode(&e, q)
    return labels


def viterbi_decode(int rate, const double complex[::1] points, int depth=32):
    """Labels decided by the soft-decision Viterbi decoder for received
    points (on the integer grid), the whole sequence, in order."""
    cdef v17_viterbi_t v
    cdef Py_ssize_t n = points.shape[0], i, k = 0
    if v17_viterbi_init(&v, rate, depth) < 0:
        v17_viterbi_free(&v)
        _constellation(rate)
        raise ModemError(f"traceback depth must be 1..{V17_VITERBI_MAX_DEPTH}, not {depth}")
    labels = np.empty(n + V17_VITERBI_MAX_DEPTH + V17_VITERBI_BLOCK, np.int32)
    cdef int[::1] out = labels
    with nogil:
        for i in range(n):
            k += v17_viterbi_push(&v, points[i].real, points[i].imag, NULL, &out[k])
        k += v17_viterbi_flush(&v, &out[k])
    v17_viterbi_free(&v)
    return labels[:k]


def labels_to_bits(int rate, const int[::1] labels, int diff=0):
    """Data bits of a label sequence: differential decoding of Y1 Y2 from
    `diff`, then Q1, Q2, Q3.. of each symbol in order."""
    cdef int bps = _constellation(rate).bits_per_symbol
    cdef Py_ssize_t n = labels.shape[0], i
    cdef int j, y, q
    bits = np.empty(n * bps, np.uint8)
    cdef uint8_t[::1] b = bits
    with nogil:
        for i in range(n):
            y = (labels[i] >> 1) & 3
            q = ((y - diff) & 3) | ((labels[i] >> 3) << 2)
            diff = y
            for j in range(bps):
                b[i * bps + j] = (q >> j) & 1
    return bits


cdef class Tx:
    """V.17 transmitter state (csrc/v17tx.c), embedded in the object: init
    into it once, restart for every new transmission."""
    cdef v17_tx_state_t s
    cdef int rate
    cdef bint short_train, tep
    cdef float power_dbm0

    def __cinit__(self, int rate, bint short_train, bint tep, float power_dbm0):
        _constellation(rate)
        self.rate, self.short_train, self.tep, self.power_dbm0 = rate, short_train, tep, power_dbm0
        v17_tx_init(&self.s, rate, short_train, tep, power_dbm0)

    def __dealloc__(self):
        v17_tx_free(&self.s)

    def restart(self):
        """A new transmission with the same settings, in the same state."""
        v17_tx_restart(&self.s, self.rate, self.short_train, self.tep, self.power_dbm0)

    def modulate(self, const uint8_t[::1] bits, bint final=False):
        """Samples for the training (first call) and the whole symbols of
        bits; with final, also the rest and the turn-off (then the state is
        spent)."""
        cdef int nbits = bits.shape[0]
        cdef int cap = v17_tx_max_samples(&self.s, nbits) + (v17_tx_finish_max_samples(&self.s) if final else 0)
        cdef int n, m = 0
        cdef const uint8_t *p = &bits[0] if nbits else NULL
        out = np.empty(cap, np.int16)
        cdef int16_t[::1] o = out
        with nogil:
            n = v17_tx(&self.s, p, nbits, &o[0], cap)
            if n >= 0 and final:
                m = v17_tx_finish(&self.s, &o[n], cap - n)
        if n < 0:
            raise ModemError("V.17 transmitter used after its turn-off: make a new one")
        return out[:n + m]


cdef class Rx:
    """V.17 receiver state (csrc/v17rx.c)."""
    cdef v17_rx_state_t s
    cdef bint ready
    cdef int rate
    cdef scratch_t bits       # the bits of one call, before their array

    def __cinit__(self, int rate):
        self.ready = False
        self.bits.data = NULL
        self.bits.size = 0
        _constellation(rate)
        if v17_rx_init(&self.s, rate) == NULL:
            raise MemoryError("V.17 receiver: out of memory")
        self.rate = rate
        self.ready = True

    def __dealloc__(self):
        if self.ready:
            v17_rx_free(&self.s)
        free(self.bits.data)

    def demodulate(self, samples):
        """int16 samples (1-D) in, the bits decided on them out (uint8)."""
        cdef cnp.ndarray a = int16_samples(samples)
        return self._run(<const int16_t *> cnp.PyArray_DATA(a), cnp.PyArray_DIM(a, 0))

    cdef object _run(self, const int16_t *p, Py_ssize_t n):
        cdef int k = 0
        if n == 0:
            return uint8_array(NULL, 0)
        if n > 1000000000:
            raise ModemError(f"V.17 receiver: a block of {n} samples is too long; give at most 1000000000 at a time")
        cdef uint8_t *o = scratch_room(&self.bits, V17_RX_MAX_BITS(<int> n))
        with nogil:
            k = v17_rx(&self.s, p, <int> n, o)
        return uint8_array(o, k)

    def fillin(self, int n):
        """n samples lost: the bits decided over the hole (csrc/v17rx.h)."""
        cdef int k = 0
        cdef uint8_t *o
        if n > 1000000000:
            raise ModemError(f"V.17 receiver: a hole of {n} samples is too long; give at most 1000000000 at a time")
        if n > 0:
            o = scratch_room(&self.bits, V17_RX_MAX_BITS(n))
            with nogil:
                k = v17_rx_fillin(&self.s, n, o)
            return uint8_array(o, k)
        return uint8_array(NULL, 0)

    def restart(self, bint short_train=False):
        """Wait for a new signal in the same state: short_train keeps the
        trained channel (csrc/v17rx.h), else everything starts afresh."""
        if v17_rx_restart(&self.s, self.rate, short_train) < 0:
            raise MemoryError("V.17 receiver: out of memory")

    def symbols(self, int n=DSP_SYMTAP_LEN):
        """The last n (at most DSP_SYMTAP_LEN) data symbols the Viterbi
        decoder took, complex64 on the integer grid, oldest first."""
        out = np.empty(2 * max(0, min(n, DSP_SYMTAP_LEN)), np.float32)
        cdef float[::1] o = out
        cdef int got = 0
        if out.shape[0]:
            got = v17_rx_symbols(&self.s, &o[0], out.shape[0] // 2)
        return out[:2 * got].view(np.complex64)

    @property
    def state(self):
        """Training state (enum rx_state of csrc/v17rx.c), for tests."""
        return self.s.state

    @property
    def carrier_present(self):
        return bool(v17_rx_carrier_present(&self.s))

    @property
    def trained(self):
        return bool(v17_rx_in_data(&self.s))

    @property
    def snr_db(self):
        return v17_rx_snr_db(&self.s)

    @property
    def signal_power_dbm0(self):
        return v17_rx_power_dbm0(&self.s)

    @property
    def carrier_offset_hz(self):
        return v17_rx_carrier_offset_hz(&self.s)
