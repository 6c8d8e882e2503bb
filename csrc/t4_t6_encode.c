/*
 * T.4 / T.6 page encoder (see t4_t6_encode.h for the stream layouts).
 *
 * How: each scan line is first reduced to its changing elements (T.4
 * §4.2.1.3.1: pels whose colour differs from the previous pel on the line),
 * found by comparing 8 pels at a time with a whole-white or whole-black
 * 64-bit word.  One-dimensional lines then code the runs between changing
 * elements with the precomputed makeup + terminating words of t4_codes.c;
 * two-dimensional lines run the coding procedure of T.4 §4.2.1.3.3 (pass,
 * vertical and horizontal modes) against the changing elements of the
 * reference line.  Bits collect in a 64-bit accumulator written out 32 bits
 * at a time; the output buffer grows when a worst-case line might not fit.
 */
#include "t4_t6_encode.h"

#include <stdlib.h>
#include <string.h>

#include "t4_codes.h"

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t pos;      /* bytes written (and not taken) */
    size_t base;     /* bytes taken before these (t4_t6_encode_take) */
    uint64_t acc;    /* pending bits, left aligned */
    int n;           /* number of pending bits, < 32 between calls */
} bit_writer_t;

static inline void put_bits(bit_writer_t *w, uint32_t code, int bits)
{
    /* 1 <= bits <= 32 and w->n < 32, so the shift is in 0..63. */
    w->acc |= (uint64_t)code << (64 - w->n - bits);
    w->n += bits;
    if (w->n >= 32) {
        uint32_t top = (uint32_t)(w->acc >> 32);
        uint8_t *p = w->buf + w->pos;
        p[0] = (uint8_t)(top >> 24);
        p[1] = (uint8_t)(top >> 16);
        p[2] = (uint8_t)(top >> 8);
        p[3] = (uint8_t)top;
        w->pos += 4;
        w->acc <<= 32;
        w->n -= 32;
    }
}

static inline long bit_count(const bit_writer_t *w)
{
    return (long)(w->base + w->pos) * 8 + w->n;
}

static void put_zeros(bit_writer_t *w, long bits)
{
    while (bits > 0) {
        int chunk = bits > 24 ? 24 : (int)bits;
        put_bits(w, 0, chunk);
        bits -= chunk;
    }
}

/* Room for `bytes` more bytes (plus the 4 put_bits may write at once). */
static int reserve(bit_writer_t *w, size_t bytes)
{
    if (w->pos + bytes + 8 <= w->cap)
        return 0;
    size_t cap = w->cap * 2;
    if (cap < w->pos + bytes + 8)
        cap = w->pos + bytes + 8;
    uint8_t *buf = realloc(w->buf, cap);
    if (buf == NULL)
        return -1;
    w->buf = buf;
    w->cap = cap;
    return 0;
}

/* A run of one colour: makeup code(s) and terminating code, T.4 §4.1.1.
 * Runs of 2624 pels or more start with makeup 2560 as often as needed. */
static inline void put_run(bit_writer_t *w, const uint32_t *words, int run)
{
    while (run > T4_MAX_COMBINED_RUN) {
        const t4_code_t *mk = &t4_extended_makeup[12];   /* 2560 */
        put_bits(w, mk->code, mk->bits);
        run -= 2560;
    }
    uint32_t word = words[run];
    put_bits(w, word >> 5, (int)(word & 31));
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_SET_BYTE(x) (__builtin_ctzll(x) >> 3)
#elif defined(__GNUC__) && defined(__BYTE_ORDER__)
#define FIRST_SET_BYTE(x) (__builtin_clzll(x) >> 3)
#endif

/* The first pel at or after `from` that is not `colour`, or width. */
static inline int next_change(const uint8_t *row, int from, int width, int colour)
{
    int x = from;
#ifdef FIRST_SET_BYTE
    const uint64_t pattern = colour ? 0x0101010101010101ull : 0;
    /* Long runs (most of a page) are skipped 32 pels per test. */
    while (x + 32 <= width) {
        uint64_t v0, v1, v2, v3;
        memcpy(&v0, row + x, 8);
        memcpy(&v1, row + x + 8, 8);
        memcpy(&v2, row + x + 16, 8);
        memcpy(&v3, row + x + 24, 8);
        if ((v0 ^ pattern) | (v1 ^ pattern) | (v2 ^ pattern) | (v3 ^ pattern))
            break;
        x += 32;
    }
    while (x + 8 <= width) {
        uint64_t v;
        memcpy(&v, row + x, 8);
        v ^= pattern;
        if (v)
            return x + FIRST_SET_BYTE(v);
        x += 8;
    }
#endif
    while (x < width && row[x] == colour)
        x++;
    return x;
}

/* Changing elements of a line (T.4 §4.2.1.3.1), in increasing order; the
 * even ones start black runs, the odd ones white runs.  Three copies of
 * width follow, so b1, b2, a1 and a2 always exist.  Returns their count. */
static int find_changes(const uint8_t *row, int width, int *changes)
{
    int n = 0;
    int x = 0;
    int colour = 0;
    for (;;) {
        x = next_change(row, x, width, colour);
        if (x >= width)
            break;
        changes[n++] = x;
        colour ^= 1;
    }
    changes[n] = changes[n + 1] = changes[n + 2] = width;
    return n;
}

/* One-dimensional coding, T.4 §4.1.1: alternating white and black runs,
 * starting with a (possibly empty) white run. */
static void encode_1d(bit_writer_t *w, const int *changes, int n, int width)
{
    int a0 = 0;
    int i = 0;
    for (;;) {
        int a1 = i < n ? changes[i] : width;
        put_run(w, t4_white_run_word, a1 - a0);
        if (a1 >= width)
            return;
        int a2 = i + 1 < n ? changes[i + 1] : width;
        put_run(w, t4_black_run_word, a2 - a1);
        if (a2 >= width)
            return;
        a0 = a2;
        i += 2;
    }
}

/* Two-dimensional coding, T.4 §4.2.1.3.3 (and T.6), of the line whose
 * changing elements are cur[] against the reference line ref[]. */
static void encode_2d(bit_writer_t *w, const int *ref, const int *cur, int width)
{
    int a0 = -1;     /* the imaginary white element before the line */
    int colour = 0;  /* colour of the run a0 starts */
    int i = 0;       /* cur[i] = a1, the first changing element right of a0 */
    int jb = 0;      /* ref[jb] = b1, moved as t4_codes.h says */
    while (a0 < width) {
        int b1 = ref[jb];
        int b2 = ref[jb + 1];
        int a1 = cur[i];
        if (b2 < a1) {
            put_bits(w, T4_PASS_CODE, T4_PASS_BITS);
            a0 = b2;
            jb += 2;
            continue;
        }
        int d = a1 - b1;
        if (d >= -3 && d <= 3) {
            const t4_code_t *v = &t4_vertical[d + 3];
            put_bits(w, v->code, v->bits);
            a0 = a1;
            colour ^= 1;
            i++;
            if (a0 >= width)
                break;
            jb = t4_b1_after_vertical(ref, jb, a0);
            continue;
        }
        int a2 = cur[i + 1];
        int start = a0 < 0 ? 0 : a0;
        put_bits(w, T4_HORIZ_CODE, T4_HORIZ_BITS);
        put_run(w, colour ? t4_black_run_word : t4_white_run_word, a1 - start);
        put_run(w, colour ? t4_white_run_word : t4_black_run_word, a2 - a1);
        a0 = a2;
        i += 2;
        if (a0 >= width)
            break;
        jb = t4_b1_past(ref, jb, a0);
    }
}

struct t4_t6_encode_state_s {
    bit_writer_t w;
    int width, coding, k, flags, no_eol;
    long align;              /* NO_EOL: lines start on multiples of this many bits */
    long min_bits_per_line;
    size_t line_bound;       /* the most bytes one line can take */
    int *lines;              /* room for ref and cur */
    int *ref, *cur;          /* changing elements of the line above and this one */
    int y;                   /* rows coded so far */
    long line_start;         /* bit where the last line's EOL began */
    int ended;
};

t4_t6_encode_state_t *t4_t6_encode_init(int width, int coding, int k, long min_bits_per_line,
                                        int flags, int *err)
{
    *err = -2;
    if (width < 1 || width > T4_MAX_WIDTH || min_bits_per_line < 0
        || (coding != T4_CODING_MH && coding != T4_CODING_MR && coding != T4_CODING_MMR)
        || (coding == T4_CODING_MR && k < 1))
        return NULL;
    const int no_eol = (flags & T4_FRAME_NO_EOL) != 0;
    const int align_flags = flags & (T4_FRAME_ALIGN_8 | T4_FRAME_ALIGN_16);
    if (no_eol ? coding != T4_CODING_MH || min_bits_per_line != 0
                     || align_flags == (T4_FRAME_ALIGN_8 | T4_FRAME_ALIGN_16)
               : align_flags != 0)
        return NULL;
    if (t4_codes_init())
        return NULL;
    *err = -1;
    t4_t6_encode_state_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->width = width;
    s->coding = coding;
    s->k = k;
    s->flags = flags;
    s->no_eol = no_eol;
    s->align = align_flags == T4_FRAME_ALIGN_8 ? 8 : align_flags ? 16 : 1;
    s->min_bits_per_line = min_bits_per_line;
    /* Worst case per line: 8 bits per pel (a vertical or horizontal mode
     * code for every pel change costs at most that), EOL, tag, slack. */
    s->line_bound = ((size_t)width * 8 + 96 + (size_t)min_bits_per_line) / 8;
    s->w.cap = 4096;
    s->w.buf = malloc(s->w.cap);
    s->lines = malloc(sizeof(int) * ((size_t)width + 4) * 2);
    if (s->w.buf == NULL || s->lines == NULL) {
        t4_t6_encode_free(s);
        return NULL;
    }
    s->ref = s->lines;
    s->cur = s->lines + width + 4;
    /* The imaginary white line above the first (T.6; T.4 §4.2.1.3.4 for a0). */
    s->ref[0] = s->ref[1] = s->ref[2] = width;
    *err = 0;
    return s;
}

int t4_t6_encode_rows(t4_t6_encode_state_t *s, const uint8_t *image, ptrdiff_t stride, int rows)
{
    if (s->ended || rows < 0)
        return -2;
    bit_writer_t *w = &s->w;
    const int width = s->width;
    for (int r = 0; r < rows; r++, s->y++) {
        if (reserve(w, s->line_bound))
            return -1;
        int *cur = s->cur;
        int n = find_changes(image + (ptrdiff_t)r * stride, width, cur);
        if (s->coding == T4_CODING_MMR) {
            encode_2d(w, s->ref, cur, width);
        } else if (s->no_eol) {
            /* TIFF Compression 2 / 32771: zeros up to the boundary, the line */
            put_zeros(w, (s->align - bit_count(w) % s->align) % s->align);
            encode_1d(w, cur, n, width);
        } else {
            if (s->y > 0)
                put_zeros(w, s->min_bits_per_line - (bit_count(w) - s->line_start));
            s->line_start = bit_count(w);
            if (s->coding == T4_CODING_MH) {
                put_bits(w, T4_EOL_CODE, T4_EOL_BITS);
                encode_1d(w, cur, n, width);
            } else if (s->y % s->k == 0) {
                put_bits(w, (T4_EOL_CODE << 1) | 1, T4_EOL_BITS + 1);
                encode_1d(w, cur, n, width);
            } else {
                put_bits(w, T4_EOL_CODE << 1, T4_EOL_BITS + 1);
                encode_2d(w, s->ref, cur, width);
            }
        }
        s->cur = s->ref;
        s->ref = cur;
    }
    return 0;
}

int t4_t6_encode_end(t4_t6_encode_state_t *s)
{
    if (s->ended)
        return -2;
    bit_writer_t *w = &s->w;
    if (reserve(w, 32 + (size_t)s->min_bits_per_line / 8))
        return -1;
    if (s->coding == T4_CODING_MMR) {
        /* EOFB (T.6): EOL EOL */
        put_bits(w, T4_EOL_CODE, T4_EOL_BITS);
        put_bits(w, T4_EOL_CODE, T4_EOL_BITS);
    } else if (s->no_eol) {
        /* The data end on the boundary too (libtiff's RLEW strips are whole
         * 16-bit words). */
        put_zeros(w, (s->align - bit_count(w) % s->align) % s->align);
    } else {
        if (s->y > 0)
            put_zeros(w, s->min_bits_per_line - (bit_count(w) - s->line_start));
        if (!(s->flags & T4_ENCODE_NO_RTC)) {
            for (int i = 0; i < 6; i++) {
                if (s->coding == T4_CODING_MR)
                    put_bits(w, (T4_EOL_CODE << 1) | 1, T4_EOL_BITS + 1);
                else
                    put_bits(w, T4_EOL_CODE, T4_EOL_BITS);
            }
        }
    }
    s->ended = 1;
    return 0;
}

long t4_t6_encode_bits(const t4_t6_encode_state_t *s)
{
    return bit_count(&s->w);
}

size_t t4_t6_encode_take(t4_t6_encode_state_t *s, const uint8_t **data)
{
    bit_writer_t *w = &s->w;
    if (s->ended) {
        /* Flush, padding the last byte with zeros. */
        while (w->n > 0) {
            w->buf[w->pos++] = (uint8_t)(w->acc >> 56);
            w->acc <<= 8;
            w->n = w->n > 8 ? w->n - 8 : 0;
        }
    } else {
        /* The whole octets of the pending bits too (at most 3: n < 32). */
        while (w->n >= 8) {
            w->buf[w->pos++] = (uint8_t)(w->acc >> 56);
            w->acc <<= 8;
            w->n -= 8;
        }
    }
    size_t n = w->pos;
    *data = w->buf;
    w->base += n;
    w->pos = 0;
    return n;
}

void t4_t6_encode_free(t4_t6_encode_state_t *s)
{
    if (s == NULL)
        return;
    free(s->w.buf);
    free(s->lines);
    free(s);
}

long t4_t6_encode_page(const uint8_t *image, ptrdiff_t stride, int width, int height,
                       int coding, int k, long min_bits_per_line, int flags,
                       uint8_t **out)
{
    *out = NULL;
    int err;
    if (height < 0)
        return -2;
    t4_t6_encode_state_t *s = t4_t6_encode_init(width, coding, k, min_bits_per_line, flags,
                                                &err);
    if (s == NULL)
        return err;
    /* Room for the whole page at once, as a rule (reserve grows it otherwise). */
    if (reserve(&s->w, (size_t)height * ((size_t)width / 16 + 8))
        || t4_t6_encode_rows(s, image, stride, height) || t4_t6_encode_end(s)) {
        t4_t6_encode_free(s);
        return -1;
    }
    const uint8_t *data;
    long n = (long)t4_t6_encode_take(s, &data);
    *out = s->w.buf;         /* handed over: the data start at buf */
    s->w.buf = NULL;
    t4_t6_encode_free(s);
    return n;
}
