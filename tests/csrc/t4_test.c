/*
 * C unit test of csrc/t4_*.c, built with AddressSanitizer and UBSan by
 * test_t4_c.py: the code tables decode to themselves, pages round trip at
 * many widths, and random or mutated streams never make either decoder read
 * or write outside its buffers (every buffer here is exactly as large as
 * the API says, so one byte too far is caught).
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

/* Decodes with the buffer grown one row at a time, exact size. */
static uint8_t *decode_all(const uint8_t *data, size_t len, int coding, int width,
                           int lenient, int height, int max_rows, int *rows, int *status)
{
    t4_t6_decode_state_t *s = t4_t6_decode_init(coding, width, data, len, lenient, height);
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

static void test_round_trips(void)
{
    static const int widths[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1727, 1728, 2561, 4864};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        for (int coding = T4_CODING_MH; coding <= T4_CODING_MMR; coding++) {
            int width = widths[w];
            int height = 1 + (int)(rnd() % 20);
            uint8_t *img = random_page(width, height, 1 + (int)(rnd() % 500));
            uint8_t *data;
            long n = t4_t6_encode_page(img, width, width, height, coding, 1 + (int)(rnd() % 4),
                                       (long)(rnd() % 300), 0, &data);
            CHECK(n > 0, "encode");
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

static void fuzz_one(const uint8_t *data, size_t len, int coding, int width)
{
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, data, len);
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
        fuzz_one(buf, len, 1 + (int)(rnd() % 3), widths[rnd() % 7]);
    }
    for (int i = 0; i < 3000; i++) {
        int coding = 1 + (int)(rnd() % 3);
        int width = widths[rnd() % 5];
        int height = 1 + (int)(rnd() % 10);
        uint8_t *img = random_page(width, height, 1 + (int)(rnd() % 300));
        uint8_t *data;
        long n = t4_t6_encode_page(img, width, width, height, coding, 2, 0, 0, &data);
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

int main(void)
{
    CHECK(t4_codes_init() == 0, "tables");
    test_tables();
    test_round_trips();
    test_fuzz();
    return ctest_report();
}
