/*
 * C unit test of csrc/t4_*.c, built with AddressSanitizer and UBSan by
 * test_t4_c.py: the code tables decode to themselves, pages round trip at
 * many widths (MH, MR, MMR, and MH without EOLs on 1-, 8- and 16-bit
 * boundaries), mode codes no encoder sends are errors, and random or
 * mutated streams never make either decoder read or write outside its
 * buffers (every buffer here is exactly as large as the API says, so one
 * byte too far is caught), also when the data are fed in pieces, which then
 * decode to what the whole data decode to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t4_codes.h"
#include "t4_t6_decode.h"
#include "t4_t6_encode.h"

#include "ctest.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Every run code, looked up with random bits after it, gives its run and length. */
static void test_tables(void)
{
    for (int run = 0; run <= 2560; run++) {
        if (run >= 64 && run % 64)
            continue;
        for (int colour = 0; colour < 2; colour++) {
            t4_code_t c;
            if (run < 64)
                c = colour ? t4_black_terminating[run] : t4_white_terminating[run];
            else if (run <= 1728)
                c = colour ? t4_black_makeup[run / 64 - 1] : t4_white_makeup[run / 64 - 1];
            else
                c = t4_extended_makeup[run / 64 - 28];
            int bits = colour ? T4_BLACK_LOOKUP_BITS : T4_WHITE_LOOKUP_BITS;
            const uint16_t *table = colour ? t4_black_lookup : t4_white_lookup;
            unsigned index = ((unsigned)c.code << (bits - c.bits)) | (rnd() & ((1u << (bits - c.bits)) - 1));
            CHECK(table[index] == (((unsigned)run << 4) | c.bits), "run %d colour %d", run, colour);
        }
    }
    /* The mode table is complete except for 0000000. */
    for (int i = 1; i < (1 << T4_MODE_LOOKUP_BITS); i++)
        CHECK(t4_mode_lookup[i] != 0, "mode index %d", i);
    CHECK(t4_mode_lookup[0] == 0, "mode index 0");
    CHECK(t4_mode_lookup[1] >> 4 == T4_MODE_EXTENSION, "extension");
}

static uint8_t *random_page(int width, int height, int density)
{
    uint8_t *img = malloc((size_t)width * height + 1);
    int colour = 0;
    for (size_t i = 0; i < (size_t)width * height; i++) {
        if ((int)(rnd() % 1000) < density)
            colour ^= 1;
        img[i] = (uint8_t)colour;
    }
    return img;
}

/* MH without EOLs on each boundary T4_FRAME_* allows (index 0: none). */
static const int framings[] = {
    T4_FRAME_NO_EOL, T4_FRAME_NO_EOL | T4_FRAME_ALIGN_8, T4_FRAME_NO_EOL | T4_FRAME_ALIGN_16
};
static const int framing_bits[] = {1, 8, 16};

/* Codings of these tests: T4_CODING_MH/MR/MMR, then MH with framings[i]
 * as T4_CODING_MMR + 1 + i. */
#define CODINGS_TESTED (T4_CODING_MMR + 3)
#define CODING_OF(c) ((c) > T4_CODING_MMR ? T4_CODING_MH : (c))
#define FRAMING_OF(c) ((c) > T4_CODING_MMR ? framings[(c) - T4_CODING_MMR - 1] : 0)

/* Decodes with the buffer grown one row at a time, exact size.  coding as
 * in CODINGS_TESTED. */
static uint8_t *decode_all(const uint8_t *data, size_t len, int coding, int width,
                           int lenient, int height, int max_rows, int *rows, int *status)
{
    t4_t6_decode_state_t *s = t4_t6_decode_init(CODING_OF(coding), width, data, len, lenient,
                                                height);
    if (FRAMING_OF(coding))
        CHECK(t4_t6_decode_set_framing(s, FRAMING_OF(coding)) == 0, "framing %d", coding);
    uint8_t *img = NULL;
    int row = 0;
    int cap = 0;
    while (t4_t6_decode_status(s) == T4_DECODE_MORE && cap < max_rows) {
        cap += 1 + cap / 2;
        if (cap > max_rows)
            cap = max_rows;
        img = realloc(img, (size_t)cap * width);
        memset(img + (size_t)row * width, 0, (size_t)(cap - row) * width);
        row = t4_t6_decode_rows(s, img, width, row, cap);
    }
    *status = t4_t6_decode_status(s);
    *rows = row;
    t4_t6_decode_free(s);
    return img;
}

/* The stream encoder, given the rows in random slices and taken from at
 * random, gives the bytes of t4_t6_encode_page. */
static void check_streamed(const uint8_t *img, int width, int height, int coding, int k,
                           long fill, int flags, const uint8_t *want, long want_len)
{
    int err;
    t4_t6_encode_state_t *s = t4_t6_encode_init(width, coding, k, fill, flags, &err);
    CHECK(s != NULL, "stream init %d", err);
    if (s == NULL)
        return;
    uint8_t *got = malloc((size_t)want_len + 64);
    size_t len = 0;
    const uint8_t *piece;
    for (int y = 0; y < height;) {
        int rows = (int)(rnd() % 4);
        if (rows > height - y)
            rows = height - y;
        CHECK(t4_t6_encode_rows(s, img + (size_t)y * width, width, rows) == 0, "rows");
        y += rows;
        if (rnd() % 2) {
            size_t n = t4_t6_encode_take(s, &piece);
            CHECK(len + n <= (size_t)want_len, "too long");
            if (len + n <= (size_t)want_len)
                memcpy(got + len, piece, n);
            len += n;
        }
    }
    long bits = t4_t6_encode_bits(s);
    CHECK(t4_t6_encode_end(s) == 0 && t4_t6_encode_end(s) == -2, "end once");
    CHECK(t4_t6_encode_rows(s, img, width, 1) == -2, "no rows after the end");
    size_t n = t4_t6_encode_take(s, &piece);
    CHECK(len + n == (size_t)want_len, "coding %d width %d: %zu bytes, not %ld", coding, width,
          len + n, want_len);
    if (len + n == (size_t)want_len)
        memcpy(got + len, piece, n);
    CHECK(len + n != (size_t)want_len || memcmp(got, want, (size_t)want_len) == 0,
          "coding %d width %d: streamed bytes", coding, width);
    CHECK(bits <= t4_t6_encode_bits(s) && (t4_t6_encode_bits(s) + 7) / 8 == want_len,
          "bits %ld", t4_t6_encode_bits(s));
    free(got);
    t4_t6_encode_free(s);
}

static void test_round_trips(void)
{
    static const int widths[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1727, 1728, 2561, 4864};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        for (int coding = T4_CODING_MH; coding <= CODINGS_TESTED; coding++) {
            int width = widths[w];
            int height = 1 + (int)(rnd() % 20);
            uint8_t *img = random_page(width, height, 1 + (int)(rnd() % 500));
            uint8_t *data;
            long fill = FRAMING_OF(coding) ? 0 : (long)(rnd() % 300);
            int k = 1 + (int)(rnd() % 4);
            long n = t4_t6_encode_page(img, width, width, height, CODING_OF(coding),
                                       k, fill, FRAMING_OF(coding), &data);
            CHECK(n > 0, "encode");
            check_streamed(img, width, height, CODING_OF(coding), k, fill, FRAMING_OF(coding),
                           data, n);
            if (coding > T4_CODING_MMR)   /* the data end on the boundary too */
                CHECK(n * 8 % framing_bits[coding - T4_CODING_MMR - 1] == 0, "length %ld", n);
            uint8_t *exact = malloc((size_t)n);
            memcpy(exact, data, (size_t)n);
            free(data);
            int rows, status;
            uint8_t *out = decode_all(exact, (size_t)n, coding, width, 0, 0, 100000, &rows, &status);
            CHECK(status == T4_DECODE_END && rows == height, "coding %d width %d: status %d rows %d",
                  coding, width, status, rows);
            CHECK(rows != height || memcmp(out, img, (size_t)width * height) == 0,
                  "coding %d width %d pels", coding, width);
            free(out);
            free(exact);
            free(img);
        }
    }
}

/* Framings the coders refuse: alignment without NO_EOL, both alignments,
 * NO_EOL with MR or MMR or with fill. */
static void test_bad_framings(void)
{
    uint8_t img[8] = {0};
    uint8_t *out;
    const int both = T4_FRAME_NO_EOL | T4_FRAME_ALIGN_8 | T4_FRAME_ALIGN_16;
    CHECK(t4_t6_encode_page(img, 8, 8, 1, T4_CODING_MH, 2, 0, T4_FRAME_ALIGN_8, &out) == -2, "align alone");
    CHECK(t4_t6_encode_page(img, 8, 8, 1, T4_CODING_MH, 2, 0, both, &out) == -2, "both aligns");
    CHECK(t4_t6_encode_page(img, 8, 8, 1, T4_CODING_MR, 2, 0, T4_FRAME_NO_EOL, &out) == -2, "MR");
    CHECK(t4_t6_encode_page(img, 8, 8, 1, T4_CODING_MMR, 2, 0, T4_FRAME_NO_EOL, &out) == -2, "MMR");
    CHECK(t4_t6_encode_page(img, 8, 8, 1, T4_CODING_MH, 2, 100, T4_FRAME_NO_EOL, &out) == -2, "fill");
    for (int coding = T4_CODING_MH; coding <= T4_CODING_MMR; coding++) {
        t4_t6_decode_state_t *s = t4_t6_decode_init(coding, 8, img, sizeof img, 0, 0);
        CHECK(t4_t6_decode_set_framing(s, T4_FRAME_ALIGN_16) == -1, "align alone");
        CHECK(t4_t6_decode_set_framing(s, both) == -1, "both aligns");
        CHECK(t4_t6_decode_set_framing(s, 0) == -1, "no framing");
        CHECK((t4_t6_decode_set_framing(s, T4_FRAME_NO_EOL) == 0) == (coding == T4_CODING_MH),
              "NO_EOL with coding %d", coding);
        t4_t6_decode_free(s);
    }
}

/* Rows without EOL start on the boundary: one all-white 8-pel row is
 * white run 8 (10011) padded, so 16-bit alignment gives 1001 1000 0000 0000
 * per row, 8-bit 1001 1000, none 10011 10011 ...; the decoder skips whatever
 * the bits before a boundary are (libtiff does not look at them either). */
static void test_alignment_layout(void)
{
    uint8_t white[3 * 8] = {0};
    static const uint8_t expect16[] = {0x98, 0x00, 0x98, 0x00, 0x98, 0x00};
    static const uint8_t expect8[] = {0x98, 0x98, 0x98};
    static const uint8_t expect1[] = {0x9C, 0xE6};   /* 10011100 11100110 */
    static const uint8_t *expect[] = {expect1, expect8, expect16};
    static const long sizes[] = {2, 3, 6};
    for (int i = 0; i < 3; i++) {
        uint8_t *out;
        long n = t4_t6_encode_page(white, 8, 8, 3, T4_CODING_MH, 2, 0, framings[i], &out);
        CHECK(n == sizes[i] && memcmp(out, expect[i], (size_t)n) == 0, "layout %d", framing_bits[i]);
        free(out);
    }
    /* garbage in the gaps is skipped: rows 0 and 1 padded with ones */
    uint8_t gaps[6] = {0x9F, 0xFF, 0x98, 0x7F, 0x98, 0x00};
    int rows, status;
    uint8_t *img = decode_all(gaps, sizeof gaps, T4_CODING_MMR + 3, 8, 0, 3, 10, &rows, &status);
    CHECK(status == T4_DECODE_END && rows == 3 && memcmp(img, white, sizeof white) == 0,
          "gaps: status %d rows %d", status, rows);
    free(img);
}

/* The data fed in pieces (t4_t6_decode_feed), each time as a fresh copy of
 * exactly the bytes so far with the copy before freed, so a read past what
 * was fed or of an old copy is caught: the rows, bad lines and end are those
 * of one lenient decode of the whole data. */
static void stream_one(const uint8_t *data, size_t len, int coding, int width)
{
    int want_rows, want_status;
    uint8_t *want = decode_all(data, len, coding, width, 1, 0, 3000, &want_rows, &want_status);
    t4_t6_decode_state_t *w = t4_t6_decode_init(CODING_OF(coding), width, data, len, 1, 0);
    int want_bad, want_run;
    {
        /* the bad-line counts of the whole decode */
        if (FRAMING_OF(coding))
            t4_t6_decode_set_framing(w, FRAMING_OF(coding));
        uint8_t *tmp = calloc((size_t)3000 * width, 1);
        t4_t6_decode_rows(w, tmp, width, 0, 3000);
        t4_t6_decode_bad_lines(w, &want_bad, &want_run);
        free(tmp);
        t4_t6_decode_free(w);
    }
    t4_t6_decode_state_t *s = t4_t6_decode_init(CODING_OF(coding), width, NULL, 0, 1, 0);
    if (FRAMING_OF(coding))
        t4_t6_decode_set_framing(s, FRAMING_OF(coding));
    CHECK(t4_t6_decode_feed(s, NULL, 0, 1) == 0, "feed nothing");
    const int cap = want_rows + 2;
    uint8_t *img = calloc((size_t)cap * width, 1);
    uint8_t *copy = NULL;
    size_t fed = 0;
    int row = 0;
    while (fed < len) {
        size_t step = 1 + rnd() % (len < 16 ? 2 : len / 4);
        fed = fed + step > len ? len : fed + step;
        uint8_t *next = malloc(fed);
        memcpy(next, data, fed);
        CHECK(t4_t6_decode_feed(s, next, fed, 1) == 0, "feed %zu", fed);
        free(copy);
        copy = next;
        row = t4_t6_decode_rows(s, img, width, row, cap);
        CHECK(t4_t6_decode_status(s) != T4_DECODE_ERROR, "stream error");
    }
    CHECK(t4_t6_decode_feed(s, copy, fed, 0) == 0, "last feed");
    CHECK(t4_t6_decode_feed(s, copy, fed ? fed - 1 : 0, 0) == (fed ? -1 : 0), "shorter feed");
    row = t4_t6_decode_rows(s, img, width, row, cap);
    int bad, run;
    t4_t6_decode_bad_lines(s, &bad, &run);
    CHECK(row == want_rows && bad == want_bad && run == want_run
          && (row == 0 || memcmp(img, want, (size_t)row * width) == 0),
          "stream: rows %d/%d bad %d/%d run %d/%d", row, want_rows, bad, want_bad, run,
          want_run);
    t4_t6_decode_free(s);
    free(copy);
    free(img);
    free(want);
}

static void fuzz_one(const uint8_t *data, size_t len, int coding, int width)
{
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, data, len);
    stream_one(exact, len, coding, width);
    for (int lenient = 0; lenient < 2; lenient++) {
        for (int height = 0; height <= 7; height += 7) {
            int rows, status;
            uint8_t *out = decode_all(exact, len, coding, width, lenient, height, 3000, &rows, &status);
            if (lenient)
                CHECK(status != T4_DECODE_ERROR, "lenient error");
            if (lenient && height)
                CHECK(rows == height, "lenient rows %d", rows);
            free(out);
        }
    }
    free(exact);
}

static void test_fuzz(void)
{
    static const int widths[] = {1, 5, 8, 64, 200, 1728, 4864};
    uint8_t buf[512];
    for (int i = 0; i < 3000; i++) {
        size_t len = rnd() % sizeof buf;
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rnd();
        fuzz_one(buf, len, 1 + (int)(rnd() % CODINGS_TESTED), widths[rnd() % 7]);
    }
    for (int i = 0; i < 3000; i++) {
        int coding = 1 + (int)(rnd() % CODINGS_TESTED);
        int width = widths[rnd() % 5];
        int height = 1 + (int)(rnd() % 10);
        uint8_t *img = random_page(width, height, 1 + (int)(rnd() % 300));
        uint8_t *data;
        long n = t4_t6_encode_page(img, width, width, height, CODING_OF(coding), 2, 0,
                                   FRAMING_OF(coding), &data);
        int flips = 1 + (int)(rnd() % 4);
        for (int f = 0; f < flips; f++) {
            long bit = (long)(rnd() % (uint32_t)(n * 8));
            data[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
        }
        size_t len = (size_t)n;
        if (rnd() % 3 == 0)
            len = rnd() % (len + 1);
        fuzz_one(data, len, coding, width);
        free(data);
        free(img);
    }
}

/* A stream written as a string of '0' and '1' (other characters skipped),
 * zero-padded to whole bytes; returns its length in bytes. */
static size_t bits_to_bytes(const char *bits, uint8_t *out, size_t cap)
{
    size_t n = 0;
    memset(out, 0, cap);
    for (; *bits; bits++) {
        if (*bits != '0' && *bits != '1')
            continue;
        if (n / 8 < cap && *bits == '1')
            out[n / 8] |= (uint8_t)(0x80 >> (n % 8));
        n++;
    }
    return (n + 7) / 8;
}

/* Mode codes no encoder sends (T.4 §4.1.1, §4.2.1.3): strict decoding stops
 * with the error, the line and the bit where the offending code starts;
 * the valid cases beside them decode, and so does code that T.4 does not
 * foresee but libtiff reads one way (a pass to the end of the line, a run
 * with no terminating code that reaches the end of the line). */
static void test_invalid_modes(void)
{
    static const struct {
        int coding;
        const char *bits;  /* EOFB or RTC appended by hand */
        int err, line;
        long bit;
    } cases[] = {
        /* horizontal W0 B5 at the start of a line, then V0: valid */
        {T4_CODING_MMR, "001 00110101 0011 1  000000000001 000000000001", 0, 0, 0},
        /* H W4 B4, H W8 B0: a2 = a1 = width, valid */
        {T4_CODING_MMR, "001 1011 011 001 10011 0000110111 000000000001 000000000001", 0, 0, 0},
        /* V0 (white line), then H W4 B3 and H W0 B2: a1 = a0 in mid-line */
        {T4_CODING_MMR, "1 001 1011 10 001 00110101 11 1 000000000001 000000000001",
         T4_ERR_BAD_HORIZONTAL, 1, 10},
        /* H W4 B0: a2 = a1 = 4 < width */
        {T4_CODING_MMR, "001 1011 0000110111 1 000000000001 000000000001",
         T4_ERR_BAD_HORIZONTAL, 0, 0},
        /* pass under the imaginary white line: b2 = width ends the line, as
         * libtiff reads it; the V0 is a second line */
        {T4_CODING_MMR, "0001 1 000000000001 000000000001", 0, 0, 0},
        /* MH (EOL, W16) read as MMR: one EOL is no EOFB */
        {T4_CODING_MMR, "000000000001 101010 000000000001", T4_ERR_EOL_IN_LINE, 0, 0},
        /* zeros as MH: no EOL, no line, no RTC */
        {T4_CODING_MH, "0000000000000000 0000000000000000", T4_ERR_NO_LINE, 0, 32},
        /* MR 1-D line W4 B0 W4 B4 W4: an empty black run in mid-line */
        {T4_CODING_MR, "000000000001 1 1011 0000110111 1011 011 1011 000000000001 1",
         T4_ERR_EMPTY_RUN, 0, 17},
    };
    uint8_t data[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = bits_to_bytes(cases[i].bits, data, sizeof data);
        t4_t6_decode_state_t *s = t4_t6_decode_init(cases[i].coding, 16, data, len, 0, 0);
        uint8_t img[4 * 16] = {0};
        t4_t6_decode_rows(s, img, 16, 0, 4);
        int line;
        long bit;
        int err = t4_t6_decode_error(s, &line, &bit);
        CHECK(err == cases[i].err, "case %zu: error %d, not %d", i, err, cases[i].err);
        if (cases[i].err)
            CHECK(line == cases[i].line && bit == cases[i].bit, "case %zu: line %d bit %ld",
                  i, line, bit);
        t4_t6_decode_free(s);
    }
}

int main(void)
{
    CHECK(t4_codes_init() == 0, "tables");
    test_tables();
    test_bad_framings();
    test_alignment_layout();
    test_round_trips();
    test_invalid_modes();
    test_fuzz();
    return ctest_report();
}
