/* dsp_symtap.h: a read-only tap on a receiver's decisions: a ring of the last
 * DSP_SYMTAP_LEN equalised, carrier-corrected data symbols, as the slicer
 * (or the Viterbi decoder) saw them, on the constellation's own scale.
 *
 * It is what a constellation diagram plots (docs/make_figures.py) and what
 * tests check a clean line against: one store per symbol in the receiver,
 * one copy out per read.  The receivers zero it at init (memset) and never
 * clear it on restart, so the symbols of a signal that has ended can still
 * be read.
 */
#ifndef FAXENGINE_DSP_SYMTAP_H
#define FAXENGINE_DSP_SYMTAP_H

#include <stdint.h>

#include "dsp_complex.h"

#define DSP_SYMTAP_LEN 4096

typedef struct {
    cf_t z[DSP_SYMTAP_LEN];
    uint64_t count;           /* symbols put since init */
} dsp_symtap_t;

static inline void dsp_symtap_put(dsp_symtap_t *t, cf_t z)
{
    t->z[t->count % DSP_SYMTAP_LEN] = z;
    t->count++;
}

/* Copy the last n symbols (fewer if fewer were put, at most DSP_SYMTAP_LEN),
 * oldest first, to re_im as re, im pairs; returns how many. */
static inline int dsp_symtap_read(const dsp_symtap_t *t, float *re_im, int n)
{
    uint64_t have = t->count < DSP_SYMTAP_LEN ? t->count : DSP_SYMTAP_LEN;
    if (n < 0 || (uint64_t) n > have)
        n = (int) have;
    uint64_t first = t->count - (uint64_t) n;
    for (int i = 0; i < n; i++) {
        cf_t z = t->z[(first + (uint64_t) i) % DSP_SYMTAP_LEN];
        re_im[2 * i] = z.re;
        re_im[2 * i + 1] = z.im;
    }
    return n;
}

#endif
