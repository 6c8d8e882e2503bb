/*
 * t4_eol.h: the EOLs of line bits, one bit a byte (T.4 §4.1.2: an EOL is
 * eleven or more 0s, then a 1 -- fill may lengthen the 0s, T.4 §4.1.3).
 *
 * A non-ECM receiver looks for them in the bits as the page comes in, to
 * cut the page into pieces it can decode while the call goes on and to
 * find the page's start and its RTC (faxengine/t30/link.py EolScan).
 */
#ifndef FAXENGINE_T4_EOL_H
#define FAXENGINE_T4_EOL_H

#include <stdint.h>

/* The EOLs of bits[0..n-1] (0 or 1 each, nonzero read as 1), which follow
 * base bits whose last 1 is at *last_one (-1: none yet): for each, the
 * index of its 1 counted from the start of the stream (base + i) in ends[]
 * and the number of 0s before that 1 in zeros[].  Both arrays must hold
 * n / 12 + 2 values (one more than the most EOLs n bits can end: it is
 * written to, not counted).  *last_one becomes the stream index of the last 1.
 * Returns the number of EOLs. */
long t4_eol_find(const uint8_t *bits, long n, long base, long *last_one,
                 int64_t *ends, int64_t *zeros);

/* The index of the last nonzero byte of bits[0..n-1], or -1. */
long t4_last_one(const uint8_t *bits, long n);

#endif
