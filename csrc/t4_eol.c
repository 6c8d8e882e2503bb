/*
 * t4_eol.c: the EOLs of line bits, one bit a byte.  See t4_eol.h.
 */
#include "t4_eol.h"

#define EOL_ZEROS 11    /* T.4 §4.1.2: 000000000001 */

long t4_eol_find(const uint8_t *bits, long n, long base, long *last_one,
                 int64_t *ends, int64_t *zeros)
{
    long count = 0;
    long last = *last_one;
    for (long i = 0; i < n; i++) {
        /* without branches on the bits (half of a page's are 1s, at random):
           each bit's place is written, and kept when it is an EOL's 1 */
        long one = bits[i] != 0;
        long at = base + i;
        long before = at - last - 1;        /* the 0s before this bit */
        ends[count] = at;
        zeros[count] = before;
        count += one & (before >= EOL_ZEROS);
        last = one ? at : last;
    }
    *last_one = last;
    return count;
}

long t4_last_one(const uint8_t *bits, long n)
{
    for (long i = n - 1; i >= 0; i--)
        if (bits[i])
            return i;
    return -1;
}
