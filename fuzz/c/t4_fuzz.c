/*
 * libFuzzer target for the T.4/T.6 coder in C (csrc/t4_*.c), built with
 * AddressSanitizer and UBSan by fuzz/run.sh (clang -fsanitize=fuzzer,...).
 * It reads the same input layout as fuzz/fuzz_t4.py, so the two share a
 * corpus and a crash of one replays in the other:
 *
 *   octet 0   bits 0-1: 0 MH, 1 MR, 2 MMR, 3 round trip
 *             bit 2: a known height (octet 3 + 1); bit 3: width up to 65535
 *             bit 4: lenient (decoders); bits 4-5: K - 1, 6-7: fill (round trip)
 *   octets 1-2 width, little-endian; octet 3 height - 1; rest: data or pels
 *
 * Every buffer is exactly as large as the API says (the data is copied to a
 * block of its own length, the image grows as the Cython wrapper grows it),
 * so one byte read or written too far is a sanitizer report.  The round
 * trip checks that what the encoder writes decodes to the same pels.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t4_codes.h"
#include "t4_t6_decode.h"
#include "t4_t6_encode.h"

#define MAX_ROWS 2000
#define WIDE_MAX_ROWS 64

static uint8_t *decode(int coding, int width, const uint8_t *data, size_t len, int lenient,
                       int height, int max_rows, int *rows, int *status)
{
    t4_t6_decode_state_t *s = t4_t6_decode_init(coding, width, data, len, lenient, height);
    if (s == NULL)
        abort();   /* the arguments are valid and the sizes small: no NULL allowed */
    int limit = height > 0 ? height : max_rows;
    int cap = limit < 16 ? limit : 16;
    uint8_t *img = calloc((size_t) cap * width, 1);
    int row = 0;
    for (;;) {
        row = t4_t6_decode_rows(s, img, width, row, cap);
        *status = t4_t6_decode_status(s);
        if (row < 0 || row > cap)
            abort();
        if (*status != T4_DECODE_MORE || row >= limit)
            break;
        int grown = cap * 2 < limit ? cap * 2 : limit;
        uint8_t *bigger = calloc((size_t) grown * width, 1);
        memcpy(bigger, img, (size_t) row * width);
        free(img);
        img = bigger;
        cap = grown;
    }
    if (lenient) {
        int bad, longest;
        t4_t6_decode_bad_lines(s, &bad, &longest);
        if (bad < 0 || longest < 0 || longest > bad || bad > (height > 0 ? height : row))
            abort();
        if (height > 0 && row != height)
            abort();   /* lenient with a height gives exactly that many rows */
    }
    t4_t6_decode_free(s);
    *rows = row;
    return img;
}

static void round_trip(int mode, int width, int height, const uint8_t *pels_src, size_t n)
{
    size_t npels = (size_t) width * height;
    uint8_t *image = malloc(npels ? npels : 1);
    for (size_t i = 0; i < npels; i++)
        image[i] = n ? (pels_src[(i / 8) % n] >> (7 - i % 8)) & 1 : 0;
    int k = 1 + (mode >> 4 & 3);
    long fill = (long) (mode >> 6) * 120;
    for (int coding = T4_CODING_MH; coding <= T4_CODING_MMR; coding++) {
        uint8_t *out = NULL;
        long len = t4_t6_encode_page(image, width, width, height, coding, k, fill, 0, &out);
        if (len < 0)
            abort();
        /* the coded page in a block of exactly its size */
        uint8_t *exact = malloc(len ? (size_t) len : 1);
        memcpy(exact, out, (size_t) len);
        free(out);
        int rows, status;
        uint8_t *back = decode(coding, width, exact, (size_t) len, 0, height, height, &rows,
                               &status);
        if (status == T4_DECODE_ERROR || rows != height || memcmp(back, image, npels) != 0) {
            fprintf(stderr, "round trip failed: coding %d width %d height %d k %d fill %ld\n",
                    coding, width, height, k, fill);
            abort();
        }
        free(back);
        free(exact);
    }
    free(image);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    static int ready;
    if (!ready) {
        if (t4_codes_init() != 0)
            abort();
        ready = 1;
    }
    if (size < 4)
        return 0;
    int mode = input[0];
    int raw_width = input[1] | input[2] << 8;
    int raw_height = input[3];
    size_t len = size - 4;
    uint8_t *data = malloc(len ? len : 1);
    memcpy(data, input + 4, len);
    if ((mode & 3) == 3) {
        int width = 1 + raw_width % 300;
        int height = raw_height % 40;
        if (height > 0)
            round_trip(mode, width, height, data, len);
        free(data);
        return 0;
    }
    int coding = (mode & 3) + 1;
    int height = mode & 4 ? raw_height + 1 : 0;
    int width, max_rows;
    if (mode & 8) {
        width = raw_width ? raw_width : 1;
        max_rows = WIDE_MAX_ROWS;
        if (height > WIDE_MAX_ROWS)
            height = WIDE_MAX_ROWS;
    } else {
        width = 1 + raw_width % 4864;
        max_rows = MAX_ROWS;
    }
    int rows, status;
    uint8_t *strict = decode(coding, width, data, len, 0, height, max_rows, &rows, &status);
    uint8_t *lenient_img;
    int lenient_rows, lenient_status;
    lenient_img = decode(coding, width, data, len, 1, height, max_rows, &lenient_rows,
                         &lenient_status);
    if (lenient_status == T4_DECODE_ERROR)
        abort();   /* lenient never reports an error */
    free(strict);
    free(lenient_img);
    free(data);
    return 0;
}
