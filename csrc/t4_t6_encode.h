/*
 * T.4 / T.6 page encoder: a bilevel page (one byte per pel, 0 = white,
 * 1 = black) in, the coded page out, MSB first (TIFF FillOrder 1).
 *
 *   MH  (T.4 §4.1): every line is EOL + one-dimensional code.
 *   MR  (T.4 §4.2): every line is EOL + tag bit (1: this line is coded
 *       one-dimensionally, 0: two-dimensionally) + code; the first line and
 *       every K-th line after it are one-dimensional.
 *   MMR (T.6): two-dimensional lines against an imaginary white line above
 *       the first, no EOLs, EOFB (2 x EOL) at the end.
 *
 * Fill (T.4 §4.1.3): zeros inserted before an EOL so that each total coded
 * scan line (EOL [+ tag] + data + fill, from its EOL to the next) is at
 * least min_bits_per_line bits, the minimum scan line time of T.30 times the
 * bit rate.  The page ends with RTC (T.4 §4.1.4: 6 x EOL, MR: 6 x EOL + 1)
 * unless T4_ENCODE_NO_RTC is given (libtiff writes G3 strips so).  The last
 * byte is padded with zero bits.
 *
 * MH without EOLs (flag T4_FRAME_NO_EOL, see t4_codes.h; TIFF Compression 2
 * with T4_FRAME_ALIGN_8, 32771 with T4_FRAME_ALIGN_16): the lines follow one
 * another, each padded with zeros to start on the boundary asked for, and
 * the data end on one too (libtiff writes so); no fill (min_bits_per_line
 * must be 0), no RTC.
 */
#ifndef FAXENGINE_T4_T6_ENCODE_H
#define FAXENGINE_T4_T6_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#define T4_ENCODE_NO_RTC 1   /* MH/MR: leave RTC out (MMR always ends with EOFB) */
/* flags also take the T4_FRAME_* bits of t4_codes.h */

/*
 * Codes a page.  image: height rows of width bytes, each 0 or 1, stride bytes
 * apart.  k: MR parameter K (>= 1), ignored otherwise.  On success *out is a
 * malloc'ed buffer the caller frees, and the byte count is returned; -1 when
 * memory runs out, -2 on bad arguments.
 */
long t4_t6_encode_page(const uint8_t *image, ptrdiff_t stride, int width, int height,
                       int coding, int k, long min_bits_per_line, int flags,
                       uint8_t **out);

/*
 * The same coding a few rows at a time (a page coded while a call goes on,
 * a bounded piece per step): init, then rows as often as needed, then end;
 * take hands over the whole octets coded so far at any time (after end: the
 * rest, the last octet padded).  The octets taken one after another are
 * what t4_t6_encode_page gives for all the rows at once.
 *
 * init: NULL on bad arguments (*err = -2, as t4_t6_encode_page) or when
 * memory runs out (*err = -1).  rows: 0, -1 when memory runs out, -2 after
 * end.  take: the octet count; *data points into the state, valid until
 * the next call.  bits: the bits coded so far, padding not counted.
 */
typedef struct t4_t6_encode_state_s t4_t6_encode_state_t;

t4_t6_encode_state_t *t4_t6_encode_init(int width, int coding, int k, long min_bits_per_line,
                                        int flags, int *err);
int t4_t6_encode_rows(t4_t6_encode_state_t *s, const uint8_t *image, ptrdiff_t stride, int rows);
int t4_t6_encode_end(t4_t6_encode_state_t *s);
size_t t4_t6_encode_take(t4_t6_encode_state_t *s, const uint8_t **data);
long t4_t6_encode_bits(const t4_t6_encode_state_t *s);
void t4_t6_encode_free(t4_t6_encode_state_t *s);

#endif
