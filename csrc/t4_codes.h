/*
 * T.4/T.6 code tables: the modified Huffman run-length codes (T.4 §4.1.1,
 * Tables 1/T.4, 2/T.4 and 3/T.4 with the extended makeup codes 1792-2560),
 * the two-dimensional mode codes (T.4 §4.2.1.3.2, Table 4/T.4) and the EOL.
 *
 * The code words are kept once, as data, in t4_codes.c.  From them
 * t4_codes_init() builds everything the coders need at speed:
 *   - for the encoder, the complete code (makeup + terminating code) of every
 *     run length 0..T4_MAX_COMBINED_RUN as one (bits, length) word per colour;
 *   - for the decoder, direct lookup tables indexed by the next 12 (white) or
 *     13 (black) bits of the stream, and by the next 7 bits for mode codes.
 * t4_codes_init() is idempotent and must run once before any coder is used
 * (the Cython wrapper calls it at import).
 */
#ifndef FAXENGINE_T4_CODES_H
#define FAXENGINE_T4_CODES_H

#include <stdint.h>

enum t4_coding {
    T4_CODING_MH = 1,   /* T.4 one-dimensional (modified Huffman) */
    T4_CODING_MR = 2,   /* T.4 two-dimensional (modified READ) */
    T4_CODING_MMR = 3   /* T.6 (modified modified READ) */
};

/* Line framing, for t4_t6_encode_page (flags) and t4_t6_decode_set_framing.
 * By default MH and MR lines each follow an EOL (T.4 §4.1.2).  TIFF also
 * stores MH lines with no EOL at all (TIFF 6.0 §10, Compression 2 "CCITT
 * modified Huffman RLE"; libtiff's Compression 32771 "CCITT RLEW" is the same
 * on 16-bit words): one-dimensional lines one after the other, no EOL, no
 * RTC, each line starting at a multiple of 8 (or 16) bits from the first bit
 * of the data, the bits skipped zero.  The line ends where its runs reach
 * the width; the page ends with the data (or the height the caller gives). */
#define T4_FRAME_NO_EOL 2    /* MH only: no EOLs, no RTC */
#define T4_FRAME_ALIGN_8 4   /* with T4_FRAME_NO_EOL: lines start on byte boundaries */
#define T4_FRAME_ALIGN_16 8  /* with T4_FRAME_NO_EOL: lines start on 16-bit boundaries */

/* Widest line the coders accept.  T.4 lines are at most 4864 pels (A3 at
 * 400 pels/inch); wider ones code the same way. */
#define T4_MAX_WIDTH 65535

/* EOL: 000000000001 (T.4 §4.1.2). */
#define T4_EOL_CODE 0x001u
#define T4_EOL_BITS 12

/* Two-dimensional mode codes, Table 4/T.4. */
#define T4_PASS_CODE 0x1u      /* 0001 */
#define T4_PASS_BITS 4
#define T4_HORIZ_CODE 0x1u     /* 001 */
#define T4_HORIZ_BITS 3

typedef struct {
    uint16_t code;   /* right-aligned code word */
    uint8_t bits;    /* its length */
} t4_code_t;

/* Table 1/T.4: terminating codes, runs 0..63. */
extern const t4_code_t t4_white_terminating[64];
extern const t4_code_t t4_black_terminating[64];
/* Table 2/T.4: makeup codes, runs 64, 128, ... 1728 (index = run/64 - 1). */
extern const t4_code_t t4_white_makeup[27];
extern const t4_code_t t4_black_makeup[27];
/* Table 3/T.4: extended makeup codes common to both colours, 1792..2560. */
extern const t4_code_t t4_extended_makeup[13];
/* Vertical mode codes VL3, VL2, VL1, V0, VR1, VR2, VR3 (index = a1 - b1 + 3). */
extern const t4_code_t t4_vertical[7];

/* --- encoder: one word per run length -------------------------------- */

/* Runs up to this length take one makeup code at most. */
#define T4_MAX_COMBINED_RUN (2560 + 63)

/* (code << 5) | bits for run lengths 0..T4_MAX_COMBINED_RUN; code <= 25 bits. */
extern uint32_t t4_white_run_word[T4_MAX_COMBINED_RUN + 1];
extern uint32_t t4_black_run_word[T4_MAX_COMBINED_RUN + 1];

/* --- decoder: direct lookup tables ------------------------------------ */

/* Entry = (run << 4) | bits; bits == 0 marks "no code starts with these bits"
 * (an error, or the zeros of an EOL).  Runs >= 64 are makeup codes. */
#define T4_WHITE_LOOKUP_BITS 12
#define T4_BLACK_LOOKUP_BITS 13
extern uint16_t t4_white_lookup[1 << T4_WHITE_LOOKUP_BITS];
extern uint16_t t4_black_lookup[1 << T4_BLACK_LOOKUP_BITS];

/* Mode lookup: entry = (mode << 4) | bits, indexed by the next 7 bits. */
enum t4_mode {
    T4_MODE_INVALID = 0,    /* 0000000: an EOL (or garbage) follows */
    T4_MODE_PASS = 1,
    T4_MODE_HORIZONTAL = 2,
    T4_MODE_EXTENSION = 3,  /* 0000001xxx, the 2-D extensions (uncompressed mode: xxx = 111) */
    T4_MODE_V0 = 7          /* vertical: T4_MODE_V0 + (a1 - b1), a1 - b1 = -3..3 */
};
#define T4_MODE_LOOKUP_BITS 7
extern uint8_t t4_mode_lookup[1 << T4_MODE_LOOKUP_BITS];

/* Two-dimensional coding, both ways: b1 = ref[jb], the first changing
 * element of the reference line right of a0 of the colour opposite to a0's
 * (ref holds the changing elements, increasing, then three of the width;
 * even indices are black).  Each mode moves jb by what it knows instead of
 * searching from a0 again (ref[jb - 2] <= old a0 < new a0, so jb never goes
 * back further):
 *   pass: a0 = b2, same colour: jb + 2;
 *   vertical: t4_b1_after_vertical;
 *   horizontal: a0 = a2, same colour: t4_b1_past. */

/* Past a (a0 moved there keeping its colour): jb + 2, + 4... */
static inline int t4_b1_past(const int *ref, int jb, int a)
{
    while (ref[jb] <= a)
        jb += 2;
    return jb;
}

/* After a vertical mode (a0 = a1 and its colour flips): jb - 1 when that one
 * is still right of a1 (VL), else jb + 1, + 3... past a1 (VR). */
static inline int t4_b1_after_vertical(const int *ref, int jb, int a1)
{
    if (jb > 0 && ref[jb - 1] > a1)
        return jb - 1;
    return t4_b1_past(ref, jb + 1, a1);
}

/* Builds the derived tables.  Returns 0, or -1 when the code tables are not
 * prefix free (a corrupted table; checked so a typo cannot go unnoticed). */
int t4_codes_init(void);

#endif
