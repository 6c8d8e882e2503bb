# csrc: hdlc.c
"""Compiled core of faxengine.modem.hdlc: flags, zero-bit stuffing and the
CRC-16 FCS in C (csrc/hdlc.c); the Python facade is faxengine/modem/hdlc.py."""
import numpy as np

from libc.stdint cimport uint8_t, uint16_t


cdef extern from "hdlc.h" nogil:
    int HDLC_MAX_FRAME
    int HDLC_TX_FRAME_MAX_BITS(int len)

    uint16_t hdlc_crc16(const uint8_t *buf, int len, uint16_t crc)
    int hdlc_tx_flags(uint8_t *bits, int n)
    int hdlc_tx_frame(const uint8_t *data, int len, uint8_t *bits)
    int hdlc_tx_abort(uint8_t *bits)

    ctypedef struct hdlc_rx_state_t:
        int max_len
        uint8_t buf[1]
        int flag_run
        int framing_ok
        int idle
        long aborts
        long frames_ok
        long frames_bad
        int frame_len
        int frame_ok

    void hdlc_rx_init(hdlc_rx_state_t *s, int max_len, int framing_ok_threshold)
    void hdlc_rx_free(hdlc_rx_state_t *s)
    int hdlc_rx_bits(hdlc_rx_state_t *s, const uint8_t *bits, int n, int *frame_ready)


MAX_FRAME = HDLC_MAX_FRAME


def crc16(const uint8_t[::1] data, unsigned int crc=0xFFFF):
    """The ITU-T CRC-16 register after ``data``, starting from ``crc``."""
    cdef int n = data.shape[0]
    if n == 0:
        return crc
    with nogil:
        crc = hdlc_crc16(&data[0], n, <uint16_t> crc)
    return crc


def tx_flags(int n):
    """``n`` flags as bits."""
    out = np.empty(8 * max(n, 0), dtype=np.uint8)
    cdef uint8_t[::1] o = out
    if n > 0:
        with nogil:
            hdlc_tx_flags(&o[0], n)
    return out


def tx_abort():
    """An abort sequence (a 0, then seven 1s) as bits."""
    out = np.empty(8, dtype=np.uint8)
    cdef uint8_t[::1] o = out
    hdlc_tx_abort(&o[0])
    return out


def tx_frame(const uint8_t[::1] data):
    """The stuffed bits of ``data`` followed by its FCS, without flags."""
    cdef int n = data.shape[0]
    cdef int nbits
    out = np.empty(HDLC_TX_FRAME_MAX_BITS(n), dtype=np.uint8)
    cdef uint8_t[::1] o = out
    cdef const uint8_t *p = &data[0] if n > 0 else NULL
    with nogil:
        nbits = hdlc_tx_frame(p, n, &o[0])
    return out[:nbits]


cdef class HdlcRxCore:
    """Bits in, ``(bytes, fcs_ok)`` pairs out; see csrc/hdlc.h."""
    cdef hdlc_rx_state_t s
    cdef int max_len
    cdef int threshold

    def __cinit__(self, int max_len, int framing_ok_threshold):
        self.max_len = max_len
        self.threshold = framing_ok_threshold
        hdlc_rx_init(&self.s, max_len, framing_ok_threshold)

    def __dealloc__(self):
        hdlc_rx_free(&self.s)

    def reset(self):
        hdlc_rx_free(&self.s)
        hdlc_rx_init(&self.s, self.max_len, self.threshold)

    def decode(self, const uint8_t[::1] bits):
        cdef int n = bits.shape[0]
        cdef int pos = 0
        cdef int used, ready
        frames = []
        while pos < n:
            with nogil:
                used = hdlc_rx_bits(&self.s, &bits[pos], n - pos, &ready)
            pos += used
            if ready:
                frames.append(((<char *> &self.s.buf[0])[:self.s.frame_len], bool(self.s.frame_ok)))
        return frames

    @property
    def framing_ok(self):
        return bool(self.s.framing_ok)

    @property
    def idle(self):
        return bool(self.s.idle)

    @property
    def flag_run(self):
        return self.s.flag_run

    @property
    def aborts(self):
        return self.s.aborts

    @property
    def frames_ok(self):
        return self.s.frames_ok

    @property
    def frames_bad(self):
        return self.s.frames_bad
