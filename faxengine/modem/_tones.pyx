# csrc: tone.c
"""Compiled core of faxengine.modem.tones: cadenced tone generator and
Goertzel tone detector in C (csrc/tone.c); the facade is tones.py."""
import numpy as np

from libc.stdint cimport int16_t, int64_t


cdef extern from "tone.h" nogil:
    ctypedef struct tone_gen_state_t:
        pass
    tone_gen_state_t *tone_gen_init(tone_gen_state_t *s, double freq, double amp,
                                    int64_t pre, int64_t on, int64_t off, int repeat)
    void tone_gen_restart(tone_gen_state_t *s)
    int tone_gen_free(tone_gen_state_t *s)
    int tone_gen(tone_gen_state_t *s, int16_t *amp, int len)
    int tone_gen_done(const tone_gen_state_t *s)

    int TONE_KINDS
    ctypedef struct tone_event_t:
        int kind
        int end
        int64_t start_sample
        int64_t end_sample
    ctypedef struct tone_det_state_t:
        int64_t t
    tone_det_state_t *tone_det_init(tone_det_state_t *s, double min_power, const int *qualify_ms)
    void tone_det_restart(tone_det_state_t *s)
    int tone_det_free(tone_det_state_t *s)
    int TONE_DET_MAX_EVENTS(int len)
    int tone_det_rx(tone_det_state_t *s, const int16_t *amp, int len, tone_event_t *events)
    int tone_det_present(const tone_det_state_t *s, int kind)


KINDS = ("CNG", "CED", "V21")


cdef class ToneGenCore:
    """A tone with a cadence; see csrc/tone.h."""
    cdef tone_gen_state_t s

    def __cinit__(self, double freq, double amp, long long pre, long long on, long long off, bint repeat):
        tone_gen_init(&self.s, freq, amp, pre, on, off, repeat)

    def __dealloc__(self):
        tone_gen_free(&self.s)

    def restart(self):
        """The cadence from its beginning again (csrc/tone.h)."""
        tone_gen_restart(&self.s)

    def generate(self, int n):
        out = np.empty(max(n, 0), dtype=np.int16)
        cdef int16_t[::1] o = out
        if n > 0:
            with nogil:
                tone_gen(&self.s, &o[0], n)
        return out

    @property
    def done(self):
        return bool(tone_gen_done(&self.s))


cdef class ToneDetCore:
    """Samples in, ``(kind, end, start_sample, end_sample)`` events out."""
    cdef tone_det_state_t s

    def __cinit__(self, double min_power, qualify_ms):
        cdef int q[3]
        for k in range(3):
            q[k] = qualify_ms[k]
        tone_det_init(&self.s, min_power, q)

    def __dealloc__(self):
        tone_det_free(&self.s)

    def restart(self):
        """No tone heard yet, sample count from 0 (csrc/tone.h)."""
        tone_det_restart(&self.s)

    def process(self, const int16_t[::1] samples):
        cdef int n = samples.shape[0]
        cdef int nev = 0
        if n == 0:
            return []
        buf = np.empty(TONE_DET_MAX_EVENTS(n) * sizeof(tone_event_t), dtype=np.uint8)
        cdef unsigned char[::1] b = buf
        cdef tone_event_t *ev = <tone_event_t *> &b[0]
        with nogil:
            nev = tone_det_rx(&self.s, &samples[0], n, ev)
        return [(KINDS[ev[i].kind], bool(ev[i].end), ev[i].start_sample,
                 ev[i].end_sample if ev[i].end else None) for i in range(nev)]

    def present(self, int kind):
        return bool(tone_det_present(&self.s, kind))

    @property
    def samples(self):
        return self.s.t
