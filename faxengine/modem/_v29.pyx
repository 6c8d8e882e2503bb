# csrc: v29tx.c v29rx.c qam_tx.c dsp_qamrx.c dsp_agc.c dsp_filter.c dsp_equalizer.c dsp_carrier.c dsp_timing.c
"""Compiled core of faxengine.modem.v29: the V.29 transmitter and receiver in
C (csrc/v29tx.c, csrc/v29rx.c over the receiver blocks csrc/dsp_*.c); the
Python facade is faxengine/modem/v29.py."""
import numpy as np

from faxengine.modem.errors import ModemError

from libc.stdint cimport int16_t, uint8_t

from faxengine.modem.dsp_qamrx cimport (DSP_SYMTAP_LEN, dsp_qamrx_carrier_present,
                                        dsp_qamrx_signal_power_dbm0, dsp_qamrx_snr_db, dsp_qamrx_t,
                                        dsp_qamrx_trained, qamrx_symbols)


cdef extern from "v29tx.h" nogil:
    ctypedef struct v29_tx_state_t:
        pass
    v29_tx_state_t *v29_tx_init(v29_tx_state_t *s, int rate, float power_dbm0, int tep)
    int v29_tx_restart(v29_tx_state_t *s, int rate, float power_dbm0, int tep)
    int v29_tx_free(v29_tx_state_t *s)
    int v29_tx_put_bits(v29_tx_state_t *s, const uint8_t *bits, int n)
    void v29_tx_finish(v29_tx_state_t *s)
    int v29_tx(v29_tx_state_t *s, int16_t *amp, int max)


cdef extern from "v29rx.h" nogil:
    ctypedef struct v29_rx_state_t:
        pass
    v29_rx_state_t *v29_rx_init(v29_rx_state_t *s, int rate)
    int v29_rx_restart(v29_rx_state_t *s, int rate)
    int v29_rx_free(v29_rx_state_t *s)
    int v29_rx(v29_rx_state_t *s, const int16_t *amp, int len, uint8_t *bits)
    int v29_rx_max_bits(int len)
    int v29_rx_fillin(v29_rx_state_t *s, int len, uint8_t *bits)
    const dsp_qamrx_t *v29_rx_core(const v29_rx_state_t *s)


cdef class V29TxCore:
    """Bits in, int16 samples out; see csrc/v29tx.h."""
    cdef v29_tx_state_t *s
    cdef int rate
    cdef float power_dbm0
    cdef bint tep

    def __cinit__(self, int rate, float power_dbm0, bint tep):
        self.rate, self.power_dbm0, self.tep = rate, power_dbm0, tep
        self.s = v29_tx_init(NULL, rate, power_dbm0, tep)
        if self.s == NULL:
            raise ModemError(f"V.29 transmitter: no rate {rate} bit/s (see faxengine.modem.v29.RATES) "
                             "or out of memory")

    def __dealloc__(self):
        v29_tx_free(self.s)

    def restart(self):
        """A new transmission with the same settings, in the same state."""
        if v29_tx_restart(self.s, self.rate, self.power_dbm0, self.tep) < 0:
            raise MemoryError("V.29 transmitter: out of memory")

    def modulate(self, const uint8_t[::1] bits, bint finish=False):
        cdef int n = bits.shape[0]
        cdef int got, chunk = 8192
        cdef int16_t[::1] o
        if n > 0 and v29_tx_put_bits(self.s, &bits[0], n) < 0:
            raise MemoryError("V.29 transmitter: out of memory")
        if finish:
            v29_tx_finish(self.s)
        parts = []
        while True:
            out = np.empty(chunk, dtype=np.int16)
            o = out
            with nogil:
                got = v29_tx(self.s, &o[0], chunk)
            parts.append(out[:got])
            if got < chunk:
                break
        return np.concatenate(parts)


cdef class V29RxCore:
    """int16 samples in, data bits out; see csrc/v29rx.h."""
    cdef v29_rx_state_t *s
    cdef int rate

    def __cinit__(self, int rate):
        self.rate = rate
        self.s = v29_rx_init(NULL, rate)
        if self.s == NULL:
            raise ModemError(f"V.29 receiver: no rate {rate} bit/s (see faxengine.modem.v29.RATES) "
                             "or out of memory")

    def __dealloc__(self):
        v29_rx_free(self.s)

    def restart(self):
        """Everything heard forgotten, in the same state (csrc/v29rx.h)."""
        if v29_rx_restart(self.s, self.rate) < 0:
            raise MemoryError("V.29 receiver: out of memory")

    def demodulate(self, const int16_t[::1] samples):
        cdef int n = samples.shape[0]
        cdef int nbits = 0
        out = np.empty(v29_rx_max_bits(max(n, 0)), dtype=np.uint8)
        cdef uint8_t[::1] o = out
        if n > 0:
            with nogil:
                nbits = v29_rx(self.s, &samples[0], n, &o[0])
        return out[:nbits]

    def fillin(self, int n):
        """n samples lost: the bits decided over the hole (csrc/dsp_qamrx.h)."""
        cdef int nbits = 0
        out = np.empty(v29_rx_max_bits(max(n, 0)), dtype=np.uint8)
        cdef uint8_t[::1] o = out
        if n > 0:
            with nogil:
                nbits = v29_rx_fillin(self.s, n, &o[0])
        return out[:nbits]

    @property
    def carrier_present(self):
        return bool(dsp_qamrx_carrier_present(v29_rx_core(self.s)))

    @property
    def trained(self):
        return bool(dsp_qamrx_trained(v29_rx_core(self.s)))

    @property
    def signal_power_dbm0(self):
        return float(dsp_qamrx_signal_power_dbm0(v29_rx_core(self.s)))

    @property
    def snr_db(self):
        return float(dsp_qamrx_snr_db(v29_rx_core(self.s)))

    def symbols(self, int n=DSP_SYMTAP_LEN):
        """The last n data symbols decided on, complex64, oldest first."""
        return qamrx_symbols(v29_rx_core(self.s), n)
