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

#endif
