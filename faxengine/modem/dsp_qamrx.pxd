# Declarations of csrc/dsp_qamrx.h shared by the wrappers of the modems built
# on it (_v29.pyx, _v27ter.pyx): the getters of what a receiver sees, and the
# symbol tap (csrc/dsp_symtap.h) copied out in one go.

cdef extern from "dsp_qamrx.h" nogil:
    ctypedef struct dsp_qamrx_t:
        pass
    int dsp_qamrx_carrier_present(const dsp_qamrx_t *s)
    int dsp_qamrx_trained(const dsp_qamrx_t *s)
    float dsp_qamrx_signal_power_dbm0(const dsp_qamrx_t *s)
    float dsp_qamrx_snr_db(const dsp_qamrx_t *s)
    int dsp_qamrx_symbols(const dsp_qamrx_t *s, float *re_im, int n)
    enum: DSP_SYMTAP_LEN


cdef inline object qamrx_symbols(const dsp_qamrx_t *s, int n):
    """The last n (at most DSP_SYMTAP_LEN) data symbols as complex64, oldest first."""
    import numpy as np
    out = np.empty(2 * max(0, min(n, DSP_SYMTAP_LEN)), np.float32)
    cdef float[::1] o = out
    cdef int got = 0
    if out.shape[0]:
        got = dsp_qamrx_symbols(s, &o[0], out.shape[0] // 2)
    return out[:2 * got].view(np.complex64)
