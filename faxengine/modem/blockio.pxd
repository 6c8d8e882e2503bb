# The receivers' per-block calls without typed memoryviews (_v17.pyx,
# _v21.pyx): T.30 hands a receiver a block of 160 samples (20 ms) at a
# time, and acquiring and releasing a memoryview of the input and of the
# output cost about as much as V.21's whole C loop over those samples.  A
# 1-D C-contiguous native int16 numpy array is read in place; anything else
# goes the memoryview way, with its errors.  The bits come back as a new
# uint8 array of exactly their number, copied from the receiver's scratch.

cimport numpy as cnp
from libc.stdint cimport int16_t, uint8_t
from libc.stdlib cimport realloc
from libc.string cimport memcpy


cdef inline bint is_int16_block(object samples):
    """A 1-D C-contiguous native int16 numpy array, read in place."""
    if not cnp.PyArray_Check(samples):
        return False
    cdef cnp.ndarray a = <cnp.ndarray> samples
    return (cnp.PyArray_NDIM(a) == 1 and cnp.PyArray_TYPE(a) == cnp.NPY_INT16
            and cnp.PyArray_ISCARRAY_RO(a) and cnp.PyArray_ISNOTSWAPPED(a))


cdef inline cnp.ndarray int16_samples(object samples):
    """samples as a 1-D C-contiguous native int16 array: itself if it is
    one, else through a typed memoryview, which raises for the wrong type
    what the receivers always raised (None is no samples)."""
    if is_int16_block(samples):
        return <cnp.ndarray> samples
    import numpy as np
    cdef const int16_t[::1] view = samples
    return np.zeros(0, np.int16) if view is None else np.asarray(view)


cdef struct scratch_t:
    uint8_t *data
    Py_ssize_t size


cdef inline uint8_t *scratch_room(scratch_t *s, Py_ssize_t need) except NULL:
    """s's buffer grown to at least need bytes (under the GIL)."""
    cdef uint8_t *p
    if need > s.size:
        p = <uint8_t *> realloc(s.data, need)
        if p == NULL:
            raise MemoryError("receiver: out of memory for the bits of a block")
        s.data = p
        s.size = need
    return s.data


cdef inline object uint8_array(const uint8_t *src, Py_ssize_t k):
    """A new uint8 array of the k bytes at src."""
    cdef cnp.npy_intp dims = k
    out = cnp.PyArray_SimpleNew(1, &dims, cnp.NPY_UINT8)
    if k:
        memcpy(cnp.PyArray_DATA(out), src, k)
    return out
