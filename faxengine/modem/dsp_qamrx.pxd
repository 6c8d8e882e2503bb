# Declarations of csrc/dsp_qamrx.h shared by the wrappers of the modems built
# on it (_v29.pyx, _v27ter.pyx): the getters of what a receiver sees.

cdef extern from "dsp_qamrx.h" nogil:
    ctypedef struct dsp_qamrx_t:
        pass
    int dsp_qamrx_carrier_present(const dsp_qamrx_t *s)
    int dsp_qamrx_trained(const dsp_qamrx_t *s)
    float dsp_qamrx_signal_power_dbm0(const dsp_qamrx_t *s)
    float dsp_qamrx_snr_db(const dsp_qamrx_t *s)
