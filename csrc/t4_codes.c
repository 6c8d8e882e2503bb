/*
 * T.4 code tables (ITU-T T.4 Tables 1, 2, 3 and 4) and the lookup tables the
 * coders derive from them.  See t4_codes.h for what each table is for.
 *
 * The decoder tables are "direct" tables: a code of n bits fills every entry
 * whose index starts with those n bits, so one lookup on the next 12 (white)
 * or 13 (black) bits of the stream yields the run and the code length.  White
 * codes are at most 12 bits long, black codes 13 (the black makeup codes
 * 512..1728), mode codes 7 (VL3, VR3).
 */
#include "t4_codes.h"

#include <string.h>

/* Table 1/T.4, white terminating codes */
const t4_code_t t4_white_terminating[64] = {
    {0x0035,  8},  /*     0 00110101 */
    {0x0007,  6},  /*     1 000111 */
    {0x0007,  4},  /*     2 0111 */
    {0x0008,  4},  /*     3 1000 */
    {0x000b,  4},  /*     4 1011 */
    {0x000c,  4},  /*     5 1100 */
    {0x000e,  4},  /*     6 1110 */
    {0x000f,  4},  /*     7 1111 */
    {0x0013,  5},  /*     8 10011 */
    {0x0014,  5},  /*     9 10100 */
    {0x0007,  5},  /*    10 00111 */
    {0x0008,  5},  /*    11 01000 */
    {0x0008,  6},  /*    12 001000 */
    {0x0003,  6},  /*    13 000011 */
    {0x0034,  6},  /*    14 110100 */
    {0x0035,  6},  /*    15 110101 */
    {0x002a,  6},  /*    16 101010 */
    {0x002b,  6},  /*    17 101011 */
    {0x0027,  7},  /*    18 0100111 */
    {0x000c,  7},  /*    19 0001100 */
    {0x0008,  7},  /*    20 0001000 */
    {0x0017,  7},  /*    21 0010111 */
    {0x0003,  7},  /*    22 0000011 */
    {0x0004,  7},  /*    23 0000100 */
    {0x0028,  7},  /*    24 0101000 */
    {0x002b,  7},  /*    25 0101011 */
    {0x0013,  7},  /*    26 0010011 */
    {0x0024,  7},  /*    27 0100100 */
    {0x0018,  7},  /*    28 0011000 */
    {0x0002,  8},  /*    29 00000010 */
    {0x0003,  8},  /*    30 00000011 */
    {0x001a,  8},  /*    31 00011010 */
    {0x001b,  8},  /*    32 00011011 */
    {0x0012,  8},  /*    33 00010010 */
    {0x0013,  8},  /*    34 00010011 */
    {0x0014,  8},  /*    35 00010100 */
    {0x0015,  8},  /*    36 00010101 */
    {0x0016,  8},  /*    37 00010110 */
    {0x0017,  8},  /*    38 00010111 */
    {0x0028,  8},  /*    39 00101000 */
    {0x0029,  8},  /*    40 00101001 */
    {0x002a,  8},  /*    41 00101010 */
    {0x002b,  8},  /*    42 00101011 */
    {0x002c,  8},  /*    43 00101100 */
    {0x002d,  8},  /*    44 00101101 */
    {0x0004,  8},  /*    45 00000100 */
    {0x0005,  8},  /*    46 00000101 */
    {0x000a,  8},  /*    47 00001010 */
    {0x000b,  8},  /*    48 00001011 */
    {0x0052,  8},  /*    49 01010010 */
    {0x0053,  8},  /*    50 01010011 */
    {0x0054,  8},  /*    51 01010100 */
    {0x0055,  8},  /*    52 01010101 */
    {0x0024,  8},  /*    53 00100100 */
    {0x0025,  8},  /*    54 00100101 */
    {0x0058,  8},  /*    55 01011000 */
    {0x0059,  8},  /*    56 01011001 */
    {0x005a,  8},  /*    57 01011010 */
    {0x005b,  8},  /*    58 01011011 */
    {0x004a,  8},  /*    59 01001010 */
    {0x004b,  8},  /*    60 01001011 */
    {0x0032,  8},  /*    61 00110010 */
    {0x0033,  8},  /*    62 00110011 */
    {0x0034,  8},  /*    63 00110100 */
};

/* Table 1/T.4, black terminating codes */
const t4_code_t t4_black_terminating[64] = {
    {0x0037, 10},  /*     0 0000110111 */
    {0x0002,  3},  /*     1 010 */
    {0x0003,  2},  /*     2 11 */
    {0x0002,  2},  /*     3 10 */
    {0x0003,  3},  /*     4 011 */
    {0x0003,  4},  /*     5 0011 */
    {0x0002,  4},  /*     6 0010 */
    {0x0003,  5},  /*     7 00011 */
    {0x0005,  6},  /*     8 000101 */
    {0x0004,  6},  /*     9 000100 */
    {0x0004,  7},  /*    10 0000100 */
    {0x0005,  7},  /*    11 0000101 */
    {0x0007,  7},  /*    12 0000111 */
    {0x0004,  8},  /*    13 00000100 */
    {0x0007,  8},  /*    14 00000111 */
    {0x0018,  9},  /*    15 000011000 */
    {0x0017, 10},  /*    16 0000010111 */
    {0x0018, 10},  /*    17 0000011000 */
    {0x0008, 10},  /*    18 0000001000 */
    {0x0067, 11},  /*    19 00001100111 */
    {0x0068, 11},  /*    20 00001101000 */
    {0x006c, 11},  /*    21 00001101100 */
    {0x0037, 11},  /*    22 00000110111 */
    {0x0028, 11},  /*    23 00000101000 */
    {0x0017, 11},  /*    24 00000010111 */
    {0x0018, 11},  /*    25 00000011000 */
    {0x00ca, 12},  /*    26 000011001010 */
    {0x00cb, 12},  /*    27 000011001011 */
    {0x00cc, 12},  /*    28 000011001100 */
    {0x00cd, 12},  /*    29 000011001101 */
    {0x0068, 12},  /*    30 000001101000 */
    {0x0069, 12},  /*    31 000001101001 */
    {0x006a, 12},  /*    32 000001101010 */
    {0x006b, 12},  /*    33 000001101011 */
    {0x00d2, 12},  /*    34 000011010010 */
    {0x00d3, 12},  /*    35 000011010011 */
    {0x00d4, 12},  /*    36 000011010100 */
    {0x00d5, 12},  /*    37 000011010101 */
    {0x00d6, 12},  /*    38 000011010110 */
    {0x00d7, 12},  /*    39 000011010111 */
    {0x006c, 12},  /*    40 000001101100 */
    {0x006d, 12},  /*    41 000001101101 */
    {0x00da, 12},  /*    42 000011011010 */
    {0x00db, 12},  /*    43 000011011011 */
    {0x0054, 12},  /*    44 000001010100 */
    {0x0055, 12},  /*    45 000001010101 */
    {0x0056, 12},  /*    46 000001010110 */
    {0x0057, 12},  /*    47 000001010111 */
    {0x0064, 12},  /*    48 000001100100 */
    {0x0065, 12},  /*    49 000001100101 */
    {0x0052, 12},  /*    50 000001010010 */
    {0x0053, 12},  /*    51 000001010011 */
    {0x0024, 12},  /*    52 000000100100 */
    {0x0037, 12},  /*    53 000000110111 */
    {0x0038, 12},  /*    54 000000111000 */
    {0x0027, 12},  /*    55 000000100111 */
    {0x0028, 12},  /*    56 000000101000 */
    {0x0058, 12},  /*    57 000001011000 */
    {0x0059, 12},  /*    58 000001011001 */
    {0x002b, 12},  /*    59 000000101011 */
    {0x002c, 12},  /*    60 000000101100 */
    {0x005a, 12},  /*    61 000001011010 */
    {0x0066, 12},  /*    62 000001100110 */
    {0x0067, 12},  /*    63 000001100111 */
};

/* Table 2/T.4, white makeup codes */
const t4_code_t t4_white_makeup[27] = {
    {0x001b,  5},  /*    64 11011 */
    {0x0012,  5},  /*   128 10010 */
    {0x0017,  6},  /*   192 010111 */
    {0x0037,  7},  /*   256 0110111 */
    {0x0036,  8},  /*   320 00110110 */
    {0x0037,  8},  /*   384 00110111 */
    {0x0064,  8},  /*   448 01100100 */
    {0x0065,  8},  /*   512 01100101 */
    {0x0068,  8},  /*   576 01101000 */
    {0x0067,  8},  /*   640 01100111 */
    {0x00cc,  9},  /*   704 011001100 */
    {0x00cd,  9},  /*   768 011001101 */
    {0x00d2,  9},  /*   832 011010010 */
    {0x00d3,  9},  /*   896 011010011 */
    {0x00d4,  9},  /*   960 011010100 */
    {0x00d5,  9},  /*  1024 011010101 */
    {0x00d6,  9},  /*  1088 011010110 */
    {0x00d7,  9},  /*  1152 011010111 */
    {0x00d8,  9},  /*  1216 011011000 */
    {0x00d9,  9},  /*  1280 011011001 */
    {0x00da,  9},  /*  1344 011011010 */
    {0x00db,  9},  /*  1408 011011011 */
    {0x0098,  9},  /*  1472 010011000 */
    {0x0099,  9},  /*  1536 010011001 */
    {0x009a,  9},  /*  1600 010011010 */
    {0x0018,  6},  /*  1664 011000 */
    {0x009b,  9},  /*  1728 010011011 */
};

/* Table 2/T.4, black makeup codes */
const t4_code_t t4_black_makeup[27] = {
    {0x000f, 10},  /*    64 0000001111 */
    {0x00c8, 12},  /*   128 000011001000 */
    {0x00c9, 12},  /*   192 000011001001 */
    {0x005b, 12},  /*   256 000001011011 */
    {0x0033, 12},  /*   320 000000110011 */
    {0x0034, 12},  /*   384 000000110100 */
    {0x0035, 12},  /*   448 000000110101 */
    {0x006c, 13},  /*   512 0000001101100 */
    {0x006d, 13},  /*   576 0000001101101 */
    {0x004a, 13},  /*   640 0000001001010 */
    {0x004b, 13},  /*   704 0000001001011 */
    {0x004c, 13},  /*   768 0000001001100 */
    {0x004d, 13},  /*   832 0000001001101 */
    {0x0072, 13},  /*   896 0000001110010 */
    {0x0073, 13},  /*   960 0000001110011 */
    {0x0074, 13},  /*  1024 0000001110100 */
    {0x0075, 13},  /*  1088 0000001110101 */
    {0x0076, 13},  /*  1152 0000001110110 */
    {0x0077, 13},  /*  1216 0000001110111 */
    {0x0052, 13},  /*  1280 0000001010010 */
    {0x0053, 13},  /*  1344 0000001010011 */
    {0x0054, 13},  /*  1408 0000001010100 */
    {0x0055, 13},  /*  1472 0000001010101 */
    {0x005a, 13},  /*  1536 0000001011010 */
    {0x005b, 13},  /*  1600 0000001011011 */
    {0x0064, 13},  /*  1664 0000001100100 */
    {0x0065, 13},  /*  1728 0000001100101 */
};

/* Table 3/T.4, extended makeup codes (both colours) */
const t4_code_t t4_extended_makeup[13] = {
    {0x0008, 11},  /*  1792 00000001000 */
    {0x000c, 11},  /*  1856 00000001100 */
    {0x000d, 11},  /*  1920 00000001101 */
    {0x0012, 12},  /*  1984 000000010010 */
    {0x0013, 12},  /*  2048 000000010011 */
    {0x0014, 12},  /*  2112 000000010100 */
    {0x0015, 12},  /*  2176 000000010101 */
    {0x0016, 12},  /*  2240 000000010110 */
    {0x0017, 12},  /*  2304 000000010111 */
    {0x001c, 12},  /*  2368 000000011100 */
    {0x001d, 12},  /*  2432 000000011101 */
    {0x001e, 12},  /*  2496 000000011110 */
    {0x001f, 12},  /*  2560 000000011111 */
};

/* Table 4/T.4, vertical mode codes, a1 - b1 = -3..3 */
const t4_code_t t4_vertical[7] = {
    {0x0002,  7},  /* VL3   0000010 */
    {0x0002,  6},  /* VL2   000010 */
    {0x0002,  3},  /* VL1   010 */
    {0x0001,  1},  /* V0    1 */
    {0x0003,  3},  /* VR1   011 */
    {0x0003,  6},  /* VR2   000011 */
    {0x0003,  7},  /* VR3   0000011 */
};
uint32_t t4_white_run_word[T4_MAX_COMBINED_RUN + 1];
uint32_t t4_black_run_word[T4_MAX_COMBINED_RUN + 1];
uint16_t t4_white_lookup[1 << T4_WHITE_LOOKUP_BITS];
uint16_t t4_black_lookup[1 << T4_BLACK_LOOKUP_BITS];
uint8_t t4_mode_lookup[1 << T4_MODE_LOOKUP_BITS];

static int initialised;

/* The makeup code for a run of 64 * (index + 1), T.4 §4.1.1: 64..1728 from
 * the colour's own Table 2, 1792..2560 from the common Table 3. */
static t4_code_t makeup_code(const t4_code_t *makeup, int run)
{
    int index = run / 64 - 1;
    return index < 27 ? makeup[index] : t4_extended_makeup[index - 27];
}

static void build_run_words(uint32_t *words, const t4_code_t *terminating,
                            const t4_code_t *makeup)
{
    for (int run = 0; run <= T4_MAX_COMBINED_RUN; run++) {
        t4_code_t term = terminating[run & 63];
        uint32_t code = term.code, bits = term.bits;
        if (run >= 64) {
            t4_code_t mk = makeup_code(makeup, run & ~63);
            code |= (uint32_t)mk.code << term.bits;
            bits += mk.bits;
        }
        words[run] = (code << 5) | bits;
    }
}

/* Enters one code into a direct table of 2^lookup_bits entries; returns -1
 * when an entry is taken already (the code table is not prefix free). */
static int enter(uint16_t *table, int lookup_bits, t4_code_t c, unsigned value)
{
    unsigned shift = (unsigned)(lookup_bits - c.bits);
    unsigned first = (unsigned)c.code << shift;
    for (unsigned i = 0; i < (1u << shift); i++) {
        if (table[first + i] != 0)
            return -1;
        table[first + i] = (uint16_t)value;
    }
    return 0;
}

static int build_run_lookup(uint16_t *table, int lookup_bits,
                            const t4_code_t *terminating, const t4_code_t *makeup)
{
    memset(table, 0, sizeof(uint16_t) << lookup_bits);
    for (int run = 0; run < 64; run++)
        if (enter(table, lookup_bits, terminating[run], ((unsigned)run << 4) | terminating[run].bits))
            return -1;
    for (int run = 64; run <= 2560; run += 64) {
        t4_code_t c = makeup_code(makeup, run);
        if (enter(table, lookup_bits, c, ((unsigned)run << 4) | c.bits))
            return -1;
    }
    /* The EOL shares no prefix with any run code: it must land on a free
     * entry (it stays 0 there, the decoder tells EOL from garbage itself). */
    t4_code_t eol = {T4_EOL_CODE, T4_EOL_BITS};
    unsigned shift = (unsigned)(lookup_bits - eol.bits);
    for (unsigned i = 0; i < (1u << shift); i++)
        if (table[(eol.code << shift) + i] != 0)
            return -1;
    return 0;
}

static int build_mode_lookup(void)
{
    uint16_t table[1 << T4_MODE_LOOKUP_BITS];
    memset(table, 0, sizeof table);
    t4_code_t pass = {T4_PASS_CODE, T4_PASS_BITS};
    t4_code_t horiz = {T4_HORIZ_CODE, T4_HORIZ_BITS};
    t4_code_t ext = {0x1, 7};   /* 0000001, the prefix of every extension */
    if (enter(table, T4_MODE_LOOKUP_BITS, pass, (T4_MODE_PASS << 4) | T4_PASS_BITS)
        || enter(table, T4_MODE_LOOKUP_BITS, horiz, (T4_MODE_HORIZONTAL << 4) | T4_HORIZ_BITS)
        || enter(table, T4_MODE_LOOKUP_BITS, ext, (T4_MODE_EXTENSION << 4) | 7))
        return -1;
    for (int d = -3; d <= 3; d++) {
        t4_code_t v = t4_vertical[d + 3];
        if (enter(table, T4_MODE_LOOKUP_BITS, v, ((unsigned)(T4_MODE_V0 + d) << 4) | v.bits))
            return -1;
    }
    for (int i = 0; i < (1 << T4_MODE_LOOKUP_BITS); i++)
        t4_mode_lookup[i] = (uint8_t)table[i];
    return 0;
}

int t4_codes_init(void)
{
    if (initialised)
        return 0;
    build_run_words(t4_white_run_word, t4_white_terminating, t4_white_makeup);
    build_run_words(t4_black_run_word, t4_black_terminating, t4_black_makeup);
    if (build_run_lookup(t4_white_lookup, T4_WHITE_LOOKUP_BITS, t4_white_terminating, t4_white_makeup)
        || build_run_lookup(t4_black_lookup, T4_BLACK_LOOKUP_BITS, t4_black_terminating, t4_black_makeup)
        || build_mode_lookup())
        return -1;
    initialised = 1;
    return 0;
}
