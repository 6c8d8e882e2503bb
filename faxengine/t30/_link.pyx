# cython: language_level=3
"""Compiled core of ``faxengine.t30.link.HsReceiver``: the per-block bookkeeping
of a high-speed signal as it comes in, in one call a block.

Under a page the terminal hands its high-speed receiver 50 blocks a second.
What each block needs has no policy in it: run the demodulator, append its
bits to the signal's buffer, note the block's quality (the bits so far and
whether the decision SNR was below ``POOR_SNR_DB``), feed the bits to the
HDLC receiver (ECM) or the page decoder (non-ECM), and see whether the
carrier went.  ``HsBlocks._took`` does all of it without an interpreted
frame; ``link.HsReceiver`` (a subclass) keeps the signal's end, the
restart and the facade.  The buffers are plain C memory that grows by
doubling and is kept from one signal to the next, so a page's bits are
appended without reallocations once the first page has come.
"""
import numpy as np

cimport numpy as cnp
from libc.stdint cimport int8_t, int64_t, uint8_t
from libc.stdlib cimport free, realloc
from libc.string cimport memcpy

cnp.import_array()


cdef void *_grown(void *p, Py_ssize_t *cap, Py_ssize_t need, Py_ssize_t item) except NULL:
    """p grown (doubling) to hold at least need items of item bytes."""
    cdef Py_ssize_t c = cap[0] if cap[0] else 4096
    while c < need:
        c *= 2
    cdef void *q = realloc(p, c * item)
    if q == NULL:
        raise MemoryError("high-speed receiver: out of memory for the signal's bits")
    cap[0] = c
    return q


cdef class HsBlocks:
    """The signal in progress of one high-speed receiver: its bits, its
    per-block quality, and the state the terminal reads every block
    (``_count``: bits so far; ``_flowing``: the last block gave bits).
    ``_core`` (the demodulator's compiled core), ``_poor_snr`` and
    ``_v17`` are set by the subclass; ``_hdlc_core`` (ECM) and ``decoder``
    (a non-ECM page) when it wants the bits decoded as they come."""
    cdef public object _core
    cdef public object _hdlc_core
    cdef public object frames
    cdef public object decoder
    cdef public long long _count
    cdef public bint _flowing
    cdef public double _poor_snr
    cdef public bint _v17
    cdef uint8_t *buf
    cdef Py_ssize_t nbits, bits_cap
    cdef int64_t *counts
    cdef int8_t *poor
    cdef Py_ssize_t nblocks, blocks_cap, counts_cap

    def __cinit__(self, *args, **kwargs):
        self.buf = NULL
        self.counts = NULL
        self.poor = NULL
        self.nbits = self.bits_cap = self.nblocks = self.blocks_cap = self.counts_cap = 0
        self.frames = []

    def __dealloc__(self):
        free(self.buf)
        free(self.counts)
        free(self.poor)

    @property
    def receiving(self):
        """True while a trained signal is coming in (timers wait meanwhile)."""
        return self._count > 0 and self._core.carrier_present

    @property
    def holds_line(self):
        """True while a trained V.17 signal comes in with good decisions
        (see ``link.HsReceiver``)."""
        if not self._flowing or not self._v17:
            return False
        core = self._core
        return bool(core.carrier_present) and core.snr_db >= self._poor_snr

    def held_block(self, samples):
        """The usual block under a page: when a trained V.17 signal holds the
        line (``holds_line``), the block demodulated and booked as ``feed``
        does it, and what ``feed`` returns; ``False`` (nothing done) when it
        does not, and the terminal listens as usual."""
        if not self._flowing or not self._v17:
            return False
        core = self._core
        if not core.carrier_present or core.snr_db < self._poor_snr:
            return False
        return self._took(core.demodulate(samples), False)

    def feed(self, samples):
        """A block heard (int16, contiguous: the terminal's ``rx`` checked it)."""
        return self._took(self._core.demodulate(samples), False)

    def _took(self, cnp.ndarray got, bint lost):
        """The bits ``got`` of a block (uint8, the demodulator's own): booked;
        the signal's bits when its carrier went after data (``end()``), else None."""
        if not (cnp.PyArray_NDIM(got) == 1 and cnp.PyArray_TYPE(got) == cnp.NPY_UINT8
                and cnp.PyArray_ISCARRAY_RO(got)):     # (the demodulators' own always are)
            got = np.ascontiguousarray(got, np.uint8).reshape(-1)
        cdef Py_ssize_t size = cnp.PyArray_DIM(got, 0)
        cdef long long count = self._count
        core = self._core
        if count:
            if self.nblocks == self.blocks_cap:
                self.counts = <int64_t *> _grown(self.counts, &self.counts_cap,
                                                 self.nblocks + 1, sizeof(int64_t))
                self.poor = <int8_t *> _grown(self.poor, &self.blocks_cap,
                                              self.nblocks + 1, sizeof(int8_t))
            self.counts[self.nblocks] = count + size
            self.poor[self.nblocks] = lost or core.snr_db < self._poor_snr
            self.nblocks += 1
        if size:
            self._flowing = True
            if self.nbits + size > self.bits_cap:
                self.buf = <uint8_t *> _grown(self.buf, &self.bits_cap,
                                               self.nbits + size, 1)
            memcpy(self.buf + self.nbits, cnp.PyArray_DATA(got), size)
            self.nbits += size
            count = self._count = count + size
            if self.decoder is not None:        # a non-ECM page: its lines as they come
                self.decoder.add(got)
            if self._hdlc_core is not None:     # ECM: good frames kept
                for data, ok in self._hdlc_core.decode(got):
                    if ok:
                        self.frames.append(data)
        else:
            self._flowing = False
        if count and not core.carrier_present:
            return self.end()
        return None

    def bits(self):
        """The bits of the signal in progress."""
        return _array(self.buf, self.nbits, cnp.NPY_UINT8)

    def _take_signal(self):
        """The signal's bits, and per block its bits so far and whether it was
        poor (int64, bool); the buffers start the next signal empty."""
        out = (_array(self.buf, self.nbits, cnp.NPY_UINT8),
               _array(self.counts, self.nblocks * sizeof(int64_t), cnp.NPY_INT64),
               _array(self.poor, self.nblocks, cnp.NPY_BOOL))
        self.nbits = self.nblocks = 0
        self._count = 0
        self._flowing = False
        return out


cdef object _array(const void *src, Py_ssize_t nbytes, int typenum):
    """A new 1-D array of type typenum holding the nbytes at src."""
    cdef cnp.npy_intp dims = nbytes
    if typenum == cnp.NPY_INT64:
        dims = nbytes // sizeof(int64_t)
    out = cnp.PyArray_SimpleNew(1, &dims, typenum)
    if nbytes:
        memcpy(cnp.PyArray_DATA(out), src, nbytes)
    return out
