/*
 * T.4 / T.6 page decoder (see t4_t6_decode.h for what it accepts and how
 * lenient mode behaves).
 *
 * How: the stream is read through a 64-bit window, left aligned, refilled
 * 8 bytes at a time.  A run code is decoded by one lookup of the next 12
 * (white) or 13 (black) bits in the direct tables of t4_codes.c, a mode code
 * by one lookup of the next 7 bits.  Black runs are written with memset into
 * a zeroed row.  Each line also leaves its changing elements (T.4
 * §4.2.1.3.1) in an array, the reference line of the next 2-D line; b1 is
 * found by walking that array forward as a0 moves right.
 *
 * An EOL is 11 or more zeros then a one (T.4 §4.1.2, with any fill zeros
 * of §4.1.3 before it); no run or mode code has more than 7 zeros in a row,
 * so the zeros of an EOL cannot be mistaken for a code and the decoder can
 * always tell data from fill.
 */
#include "t4_t6_decode.h"

#include <stdlib.h>
#include <string.h>

#include "t4_codes.h"

/* Lenient mode: a 2-D line whose reference line was lost (MR). */
#define T4_ERR_LOST_REFERENCE 100

struct t4_t6_decode_state_s {
    const uint8_t *data;
    size_t len;
    size_t next;       /* next byte to load; past len reads zeros */
    uint64_t buf;      /* bit window, next bit in the MSB */
    int cnt;           /* valid bits in buf */
    int coding;
    int width;
    int lenient;
    int height;        /* 0: unknown */
    int *ref;          /* changing elements of the reference line */
    int *cur;          /* ... of the line being decoded */
    int *alloc;
    int status;
    int started;       /* G3: the EOLs before the first line are read */
    int next_tag;      /* MR: tag bit of the next line, 1 = one-dimensional */
    int page_end;      /* no more lines follow the ones decoded */
    int need_1d;       /* MR lenient: a 2-D line can't be decoded until a 1-D one */
    int end_mark;      /* the page ended at RTC or EOFB, not at the end of the data */
    int no_eol;        /* MH lines without EOLs (TIFF Compression 2, 32771) */
    int align;         /* ... each starting on a multiple of this many bits */
    int err;
    int err_line;
    long err_bit;
    int bad;
    int bad_run;
    int longest_run;
    int more;          /* t4_t6_decode_feed: more data will follow these */
    int end_seen;      /* the line being decoded looked at the end of the data */
};

#if defined(__GNUC__)
#define LOAD_BE64(p) __builtin_bswap64(load64(p))
#define CLZ64(x) __builtin_clzll(x)
#else
#error "a GCC-compatible compiler is needed (__builtin_clzll, __builtin_bswap64)"
#endif

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* The bit reader lives in locals inside the hot loops: these macros expect
 * data, len, next, buf and cnt in scope.  After a refill cnt >= 56; bits of
 * buf below cnt are either zero or the true bits that follow. */
#define READER_LOAD(s)                       \
    const uint8_t *const data = (s)->data;   \
    const size_t len = (s)->len;             \
    size_t next = (s)->next;                 \
    uint64_t buf = (s)->buf;                 \
    int cnt = (s)->cnt
#define READER_SAVE(s) \
    do { (s)->next = next; (s)->buf = buf; (s)->cnt = cnt; } while (0)
#define REFILL()                                                         \
    do {                                                                 \
        if (next + 8 <= len) {                                           \
            buf |= LOAD_BE64(data + next) >> cnt;                        \
            int nb_ = (63 - cnt) >> 3;                                   \
            next += (size_t)nb_;                                         \
            cnt += nb_ << 3;                                             \
        } else {                                                         \
            while (cnt <= 56) {                                          \
                uint64_t b_ = 0;                                         \
                if (next < len)                                          \
                    b_ = data[next];                                     \
                else                                                     \
                    s->end_seen = 1;  /* zeros past the data so far */   \
                buf |= b_ << (56 - cnt);                                 \
                next++;                                                  \
                cnt += 8;                                                \
            }                                                            \
        }                                                                \
    } while (0)
#define NEED(n) do { if (cnt < (n)) REFILL(); } while (0)
#define CONSUME(n) do { buf <<= (n); cnt -= (n); } while (0)
#define POS() ((long)next * 8 - cnt)

/* Record a changing element; two at the same place (a zero-length run
 * between them) cancel, so the list stays strictly increasing. */
#define ADD_CHANGE(x)                                  \
    do {                                               \
        if (nc > 0 && cur[nc - 1] == (x))              \
            nc--;                                      \
        else                                           \
            cur[nc++] = (x);                           \
    } while (0)

/* One run: makeup codes then a terminating code (T.4 §4.1.1).  LEFT: pels
 * left in the line, or -1 where a run must have its terminating code.  With
 * LEFT >= 0 a run whose make-up codes reach the end of the line exactly and
 * that is followed by 11 zeros (an EOL, fill, or the end of the data) ends
 * there without its terminating code: fax machines send such lines (white 0,
 * black make-up 1728, EOL), and libtiff and spandsp draw them; no valid code
 * starts with 8 zeros, so nothing else reads that way. */
#define DECODE_RUN(TABLE, BITS, ERRCODE, RUN, LEFT)            \
    do {                                                       \
        RUN = 0;                                               \
        for (;;) {                                             \
            NEED(16);                                          \
            unsigned e_ = TABLE[buf >> (64 - (BITS))];         \
            if ((e_ & 15) == 0) {                              \
                if (RUN > 0 && RUN == (LEFT) && (buf >> 53) == 0) \
                    break;                                     \
                err = (ERRCODE);                               \
                goto fail;                                     \
            }                                                  \
            CONSUME(e_ & 15);                                  \
            RUN += (int)(e_ >> 4);                             \
            if ((e_ >> 4) < 64)                                \
                break;                                         \
            if (RUN > width) {                                 \
                err = T4_ERR_RUN_TOO_LONG;                     \
                goto fail;                                     \
            }                                                  \
        }                                                      \
    } while (0)

#define WHITE_RUN(RUN, LEFT) \
    DECODE_RUN(t4_white_lookup, T4_WHITE_LOOKUP_BITS, T4_ERR_WHITE_CODE, RUN, LEFT)
#define BLACK_RUN(RUN, LEFT) \
    DECODE_RUN(t4_black_lookup, T4_BLACK_LOOKUP_BITS, T4_ERR_BLACK_CODE, RUN, LEFT)

/* Only zeros left?  A yes depends on the end of the data (end_seen). */
static int rest_is_zero(t4_t6_decode_state_t *s)
{
    if (s->cnt > 0 && (s->buf >> (64 - s->cnt)) != 0)
        return 0;
    for (size_t i = s->next; i < s->len; i++)
        if (s->data[i])
            return 0;
    s->end_seen = 1;
    return 1;
}

static inline long state_pos(const t4_t6_decode_state_t *s)
{
    return (long)s->next * 8 - s->cnt;
}

/* Tells a code that failed to match apart from an EOL and from the end of
 * the data, at the reader's position. */
static int classify(t4_t6_decode_state_t *s, int err)
{
    if (err != T4_ERR_WHITE_CODE && err != T4_ERR_BLACK_CODE && err != T4_ERR_MODE_CODE)
        return err;
    if ((size_t)s->err_bit >= s->len * 8 || rest_is_zero(s))
        return T4_ERR_TRUNCATED;
    if ((s->buf >> 53) == 0)
        return T4_ERR_EOL_IN_LINE;
    /* the one-dimensional extension 000000001111: uncompressed mode */
    if (err != T4_ERR_MODE_CODE && (s->buf >> 52) == 0xF)
        return T4_ERR_UNCOMPRESSED;
    return err;
}

/* Ends a line that failed with err (the reader saved in s): the error is at
 * bit err_at, or at the reader when err_at < 0, where a code that did not
 * match is told apart from an EOL and from the end of the data. */
static int line_failed(t4_t6_decode_state_t *s, int err, long err_at)
{
    if (err_at >= 0) {
        s->err_bit = err_at;
        return err;
    }
    s->err_bit = state_pos(s);
    return classify(s, err);
}

/* One-dimensional line, T.4 §4.1.1.  Returns 0 or an error code. */
static int decode_1d(t4_t6_decode_state_t *s, uint8_t *row)
{
    READER_LOAD(s);
    const int width = s->width;
    int *const cur = s->cur;
    /* Only a line's first white run may be empty (T.4 §4.1.1).  In MH an
     * empty run in mid-line still says which pels are black, so it is let
     * through; an MR 1-D line is the reference of the 2-D lines below it, and
     * decoders disagree on whether its empty runs are changing elements
     * (libtiff keeps them, the pels say no): no encoder sends one, and such
     * a line is an error. */
    const int empty_run_ok = s->coding == T4_CODING_MH;
    int a0 = 0;
    int nc = 0;
    int err;
    int run;
    long err_at = -1;  /* where an error starts when not at the reader */
    for (;;) {
        WHITE_RUN(run, width - a0);
        if (run > width - a0) {
            err = T4_ERR_RUN_TOO_LONG;
            goto fail;
        }
        if (run == 0 && a0 > 0 && !empty_run_ok) {
            /* the error is where the empty run's code (white 0) starts */
            err = T4_ERR_EMPTY_RUN;
            err_at = POS() - 8;
            goto fail;
        }
        a0 += run;
        if (a0 >= width)
            break;
        ADD_CHANGE(a0);
        BLACK_RUN(run, width - a0);
        if (run > width - a0) {
            err = T4_ERR_RUN_TOO_LONG;
            goto fail;
        }
        if (run == 0 && !empty_run_ok) {
            err = T4_ERR_EMPTY_RUN;
            err_at = POS() - 10;  /* black 0 */
            goto fail;
        }
        memset(row + a0, 1, (size_t)run);
        a0 += run;
        if (a0 >= width)
            break;
        ADD_CHANGE(a0);
    }
    cur[nc] = cur[nc + 1] = cur[nc + 2] = width;
    READER_SAVE(s);
    return 0;
fail:
    READER_SAVE(s);
    return line_failed(s, err, err_at);
}

/* Two-dimensional line against s->ref, T.4 §4.2.1.3 and T.6. */
static int decode_2d(t4_t6_decode_state_t *s, uint8_t *row)
{
    READER_LOAD(s);
    const int width = s->width;
    const int *const ref = s->ref;
    int *const cur = s->cur;
    int a0 = -1;      /* the imaginary white element before the line */
    int colour = 0;   /* colour of the run starting at a0 */
    int jb = 0;       /* ref[jb] = b1, moved as t4_codes.h says */
    int nc = 0;
    int err;
    long err_at = -1;  /* where an error starts when not at the reader */
    while (a0 < width) {
        const int start = a0 < 0 ? 0 : a0;
        NEED(16);
        const unsigned e = t4_mode_lookup[buf >> (64 - T4_MODE_LOOKUP_BITS)];
        const int mode = (int)(e >> 4);
        if (mode > T4_MODE_EXTENSION) {
            /* vertical: a1 = b1 + (VR/VL offset) */
            const int a1 = ref[jb] + mode - T4_MODE_V0;
            if (a1 <= a0 || a1 > width) {
                err = T4_ERR_BAD_VERTICAL;
                goto fail;
            }
            CONSUME(e & 15);
            if (colour)
                memset(row + start, 1, (size_t)(a1 - start));
            a0 = a1;
            colour ^= 1;
            if (a1 >= width)
                break;
            cur[nc++] = a1;
            jb = t4_b1_after_vertical(ref, jb, a1);
        } else if (mode == T4_MODE_HORIZONTAL) {
            int run1, run2;
            const long mode_pos = POS();
            CONSUME(T4_HORIZ_BITS);
            if (colour) {
                BLACK_RUN(run1, -1);
                WHITE_RUN(run2, -1);
            } else {
                WHITE_RUN(run1, -1);
                BLACK_RUN(run2, -1);
            }
            if (run1 > width - start || run2 > width - start - run1) {
                err = T4_ERR_RUN_TOO_LONG;
                goto fail;
            }
            const int a1 = start + run1;
            const int a2 = a1 + run2;
            /* a1 is the next changing element right of a0 and a2 the next
             * right of a1 (T.4 §4.2.1.3.1): an empty run a0a1 is only the
             * first one of a line (a0 the imaginary element before it, the
             * line starts black), an empty a1a2 only where a1 ends the line.
             * Decoders read the other empty runs differently (libtiff keeps
             * them in the reference line, we would drop them), so such a
             * stream has no one meaning: an error, as no encoder sends it. */
            if ((run1 == 0 && a0 >= 0) || (run2 == 0 && a1 < width)) {
                /* its codes were read but mean nothing: the error is
                 * where its mode code starts */
                err = T4_ERR_BAD_HORIZONTAL;
                err_at = mode_pos;
                goto fail;
            }
            if (colour)
                memset(row + start, 1, (size_t)run1);
            else
                memset(row + a1, 1, (size_t)run2);
            /* strictly right of the last change (checked above): no cancelling */
            if (a1 < width)
                cur[nc++] = a1;
            if (a2 < width)
                cur[nc++] = a2;
            a0 = a2;
            if (a2 >= width)
                break;
            jb = t4_b1_past(ref, jb, a2);
        } else if (mode == T4_MODE_PASS) {
            const int b2 = ref[jb + 1];
            /* Pass mode is coded when b2 lies left of a1 (T.4 §4.2.1.3.2 a),
             * and a1 <= width, so no encoder passes b2 at the end of the
             * line (the imaginary changing element there).  libtiff reads
             * such a pass as any other: a0's colour goes on to b2, which
             * ends the line; so do we. */
            CONSUME(T4_PASS_BITS);
            if (colour)
                memset(row + start, 1, (size_t)(b2 - start));
            a0 = b2;
            if (b2 >= width)
                break;
            jb += 2;
        } else if (mode == T4_MODE_EXTENSION) {
            /* the two-dimensional extension 0000001111: uncompressed mode */
            err = (buf >> 54) == 0xF ? T4_ERR_UNCOMPRESSED : T4_ERR_EXTENSION;
            goto fail;
        } else {
            err = T4_ERR_MODE_CODE;
            goto fail;
        }
    }
    cur[nc] = cur[nc + 1] = cur[nc + 2] = width;
    READER_SAVE(s);
    return 0;
fail:
    READER_SAVE(s);
    return line_failed(s, err, err_at);
}

/* ---- line boundaries ------------------------------------------------- */

static void refill_state(t4_t6_decode_state_t *s)
{
    READER_LOAD(s);
    (void)data;
    (void)len;
    if (cnt <= 56)
        REFILL();
    READER_SAVE(s);
}

static void consume_state(t4_t6_decode_state_t *s, int n)
{
    if (n >= 64) {
        s->buf = 0;
        s->cnt -= n;
    } else {
        s->buf <<= n;
        s->cnt -= n;
    }
}

static void seek(t4_t6_decode_state_t *s, long bit)
{
    s->next = (size_t)(bit >> 3);
    s->buf = 0;
    s->cnt = 0;
    refill_state(s);
    consume_state(s, (int)(bit & 7));
}

enum { EOL_NONE = 0, EOL_FOUND = 1, EOL_END = -1 };

/* At the reader: fill zeros and an EOL?  Consumes them when so; consumes
 * nothing when the next bits are not 11 or more zeros; EOL_END when only
 * zeros are left.  `zeros` counts zeros already seen before the reader. */
static int find_eol(t4_t6_decode_state_t *s, long zeros)
{
    for (;;) {
        refill_state(s);
        if (state_pos(s) >= (long)s->len * 8)
            return EOL_END;
        int lz = s->buf ? CLZ64(s->buf) : 64;
        if (lz >= s->cnt) {
            zeros += s->cnt;
            consume_state(s, s->cnt);
            continue;
        }
        if (zeros + lz >= 11) {
            consume_state(s, lz + 1);
            return EOL_FOUND;
        }
        return EOL_NONE;
    }
}

/* Lenient resynchronisation: moves to the start of the next EOL. */
static int search_eol(t4_t6_decode_state_t *s)
{
    for (;;) {
        refill_state(s);
        if (state_pos(s) >= (long)s->len * 8)
            return EOL_END;
        if ((s->buf >> 53) == 0)
            return EOL_FOUND;
        consume_state(s, CLZ64(s->buf) + 1);
    }
}

/* At a G3 line boundary: reads fill, EOLs and MR tag bits.  Returns the
 * number of EOLs (0: line data follow directly, 2: RTC, no more lines) or
 * EOL_END when the data end.  `zeros`: see find_eol. */
static int scan_eols(t4_t6_decode_state_t *s, long zeros)
{
    int n = 0;
    for (;;) {
        int r = find_eol(s, zeros);
        zeros = 0;
        if (r == EOL_END)
            return EOL_END;
        if (r == EOL_NONE)
            return n;
        n++;
        if (n >= 2)
            s->end_mark = 1;
        if (s->coding == T4_CODING_MR) {
            refill_state(s);
            if (state_pos(s) >= (long)s->len * 8)
                return EOL_END;
            s->next_tag = (int)(s->buf >> 63);
            consume_state(s, 1);
        }
        if (n >= 2)
            return n;
    }
}

/* Lenient mode, where a complete line is not followed by an EOL: an EOL
 * with one zero flipped to one (z1 zeros, a one, z2 zeros, a one, with
 * z1 + z2 >= 10) is taken for one.  Otherwise one flipped bit in an EOL
 * would merge two lines and shift the rest of the page up a line. */
static int damaged_eol(t4_t6_decode_state_t *s)
{
    refill_state(s);
    uint64_t b = s->buf;
    if (b == 0)
        return 0;
    int z1 = CLZ64(b);
    if (z1 >= 11)
        return 0;
    uint64_t rest = b << (z1 + 1);
    int z2 = rest ? CLZ64(rest) : 64;
    if (z1 + z2 < 10 || z1 + 1 + z2 >= s->cnt)
        return 0;
    consume_state(s, z1 + 1);
    return scan_eols(s, 11);
}

/* ---- lifecycle and rows ---------------------------------------------- */

t4_t6_decode_state_t *t4_t6_decode_init(int coding, int width, const uint8_t *data,
                                        size_t len, int lenient, int height)
{
    if (t4_codes_init() || width < 1 || width > T4_MAX_WIDTH || height < 0
        || (coding != T4_CODING_MH && coding != T4_CODING_MR && coding != T4_CODING_MMR))
        return NULL;
    t4_t6_decode_state_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->alloc = malloc(sizeof(int) * ((size_t)width + 4) * 2);
    if (s->alloc == NULL) {
        free(s);
        return NULL;
    }
    s->data = data;
    s->len = len;
    s->coding = coding;
    s->width = width;
    s->lenient = lenient;
    s->height = height;
    s->ref = s->alloc;
    s->cur = s->alloc + width + 4;
    /* The imaginary white line above the first (T.6; T.4 §4.2.1.3.4 for a0). */
    s->ref[0] = s->ref[1] = s->ref[2] = width;
    s->next_tag = 1;
    s->align = 1;
    return s;
}

int t4_t6_decode_set_framing(t4_t6_decode_state_t *s, int framing)
{
    int align;
    if (framing == T4_FRAME_NO_EOL)
        align = 1;
    else if (framing == (T4_FRAME_NO_EOL | T4_FRAME_ALIGN_8))
        align = 8;
    else if (framing == (T4_FRAME_NO_EOL | T4_FRAME_ALIGN_16))
        align = 16;
    else
        return -1;
    if (s->coding != T4_CODING_MH)
        return -1;
    s->no_eol = 1;
    s->align = align;
    return 0;
}

void t4_t6_decode_free(t4_t6_decode_state_t *s)
{
    if (s != NULL) {
        free(s->alloc);
        free(s);
    }
}

int t4_t6_decode_feed(t4_t6_decode_state_t *s, const uint8_t *data, size_t len, int more)
{
    if (len < s->len || (len > 0 && data == NULL))
        return -1;
    s->data = data;
    s->len = len;
    s->more = more != 0;
    if (s->status == T4_DECODE_NEED_DATA)
        s->status = T4_DECODE_MORE;
    return 0;
}

int t4_t6_decode_end_mark(const t4_t6_decode_state_t *s)
{
    return s->end_mark;
}

int t4_t6_decode_status(const t4_t6_decode_state_t *s)
{
    return s->status;
}

int t4_t6_decode_error(const t4_t6_decode_state_t *s, int *line, long *bit)
{
    *line = s->err_line;
    *bit = s->err_bit;
    return s->err;
}

void t4_t6_decode_bad_lines(const t4_t6_decode_state_t *s, int *count, int *longest_run)
{
    *count = s->bad;
    *longest_run = s->longest_run;
}

static void count_bad(t4_t6_decode_state_t *s)
{
    s->bad++;
    s->bad_run++;
    if (s->bad_run > s->longest_run)
        s->longest_run = s->bad_run;
}

static int fail(t4_t6_decode_state_t *s, int err, int row)
{
    s->err = err;
    s->err_line = row;
    s->status = T4_DECODE_ERROR;
    return row;
}

/* G3 line start, lenient: after an error, find the next EOL and read it. */
static void resync(t4_t6_decode_state_t *s)
{
    if (search_eol(s) == EOL_END) {
        s->page_end = 1;
        return;
    }
    int n = scan_eols(s, 0);
    if (n == EOL_END || n >= 2)
        s->page_end = 1;
}

/* LINE_CUT: a line the end of the data cut off, bad, its pels decoded
 * before the end kept. */
enum { LINE_NONE = 0, LINE_GOOD = 1, LINE_BAD = 2, LINE_CUT = 3 };

/* One G3 line (row `row` of the page) with the EOLs after it.  Returns an
 * error (strict mode) or 0, and in *got whether a line was decoded, good or
 * bad. */
static int decode_g3_line(t4_t6_decode_state_t *s, uint8_t *line, int row, int *got)
{
    *got = LINE_NONE;
    if (!s->started) {
        /* T.4 §4.1.2: an EOL precedes the first line of a page.  What comes
         * before it is not part of the page, even when it decodes as a line:
         * libtiff and spandsp skip to the first EOL, and a page read with
         * that line would stand one row off theirs. */
        s->started = 1;
        resync(s);
        if (s->page_end)
            return 0;
    }
    const long line_start = state_pos(s);
    const int two_d = s->coding == T4_CODING_MR && s->next_tag == 0;
    int err;
    if (two_d && s->need_1d)
        err = T4_ERR_LOST_REFERENCE;
    else
        err = two_d ? decode_2d(s, line) : decode_1d(s, line);
    if (err == 0 && state_pos(s) > (long)s->len * 8) {
        s->err_bit = (long)s->len * 8;
        err = T4_ERR_TRUNCATED;
    }
    if (err == 0) {
        int n = scan_eols(s, 0);
        if (n == 0 && s->lenient)
            n = damaged_eol(s);
        if (n == 0 && s->height > 0 && row + 1 >= s->height) {
            /* The last row of a page of known height (a TIFF strip): what
             * follows it is not ours to read, as libtiff does not. */
            s->page_end = 1;
        } else if (n == 0) {
            s->err_bit = state_pos(s);
            err = T4_ERR_NO_EOL;
        } else if (n == EOL_END || n >= 2) {
            s->page_end = 1;
        }
    }
    if (err == 0) {
        if (!two_d)
            s->need_1d = 0;
        *got = LINE_GOOD;
        return 0;
    }
    if (!s->lenient)
        return err;
    *got = err == T4_ERR_TRUNCATED ? LINE_CUT : LINE_BAD;
    if (s->coding == T4_CODING_MR)
        s->need_1d = 1;
    if (err != T4_ERR_NO_EOL && err != T4_ERR_LOST_REFERENCE) {
        /* The failing code may have eaten the first zeros of the EOL. */
        long back = s->err_bit - 12;
        seek(s, back > line_start ? back : line_start);
    }
    resync(s);
    return 0;
}

/* The end of a line of a page with no EOLs to resume at (MMR, MH without
 * EOLs), decoded with result err: a line that needed bits past the data is
 * truncated; lenient mode counts a line in error bad and ends the page. */
static int finish_line_without_eol(t4_t6_decode_state_t *s, int err, int *got)
{
    if (err == 0 && state_pos(s) > (long)s->len * 8) {
        s->err_bit = (long)s->len * 8;
        err = T4_ERR_TRUNCATED;
    }
    if (err == 0) {
        *got = LINE_GOOD;
        return 0;
    }
    if (!s->lenient)
        return err;
    *got = err == T4_ERR_TRUNCATED ? LINE_CUT : LINE_BAD;
    s->page_end = 1;
    return 0;
}

/* One MH line without EOL (TIFF Compression 2, 32771), or the end of the
 * data. */
static int decode_bare_mh_line(t4_t6_decode_state_t *s, uint8_t *line, int *got)
{
    *got = LINE_NONE;
    refill_state(s);
    const long skip = (s->align - state_pos(s) % s->align) % s->align;
    consume_state(s, (int)skip);
    refill_state(s);
    /* No white run code starts with eight zeros: the zero padding at the end. */
    if (state_pos(s) >= (long)s->len * 8 || ((s->buf >> 56) == 0 && rest_is_zero(s))) {
        s->page_end = 1;
        return 0;
    }
    return finish_line_without_eol(s, decode_1d(s, line), got);
}

/* One MMR line, or EOFB / the end of the data. */
static int decode_mmr_line(t4_t6_decode_state_t *s, uint8_t *line, int *got)
{
    *got = LINE_NONE;
    refill_state(s);
    if ((s->buf >> (64 - T4_MODE_LOOKUP_BITS)) == 0) {
        /* EOFB (T.6: EOL EOL), or the zero padding at the end of the data;
         * one EOL alone is no MMR (MH data, say): decode_2d says so */
        if ((s->buf >> (64 - 2 * T4_EOL_BITS)) == ((T4_EOL_CODE << T4_EOL_BITS) | T4_EOL_CODE)) {
            s->page_end = 1;
            s->end_mark = 1;
            return 0;
        }
        if (rest_is_zero(s) || state_pos(s) >= (long)s->len * 8) {
            s->page_end = 1;
            return 0;
        }
    }
    return finish_line_without_eol(s, decode_2d(s, line), got);
}

int t4_t6_decode_rows(t4_t6_decode_state_t *s, uint8_t *image, ptrdiff_t stride,
                      int first_row, int max_rows)
{
    int row = first_row;
    while (s->status == T4_DECODE_MORE && row < max_rows) {
        if (s->height > 0 && row >= s->height) {
            s->status = T4_DECODE_END;
            break;
        }
        uint8_t *line = image + (ptrdiff_t)row * stride;
        if (s->page_end) {
            if (s->height == 0) {
                if (row == 0 && !s->lenient && !s->end_mark && s->len > 0) {
                    s->err_bit = (long)s->len * 8;
                    return fail(s, T4_ERR_NO_LINE, row);
                }
                s->status = T4_DECODE_END;
                break;
            }
            if (!s->lenient) {
                s->err_bit = state_pos(s);
                return fail(s, T4_ERR_SHORT_PAGE, row);
            }
            /* Lines never received: white, and bad. */
            count_bad(s);
            row++;
            continue;
        }
        int got;
        int err;
        t4_t6_decode_state_t before;
        if (s->more) {
            s->end_seen = 0;
            before = *s;
        }
        if (s->coding == T4_CODING_MMR)
            err = decode_mmr_line(s, line, &got);
        else if (s->no_eol)
            err = decode_bare_mh_line(s, line, &got);
        else
            err = decode_g3_line(s, line, row, &got);
        if (s->more && s->end_seen) {
            /* The line (or what follows it) reaches past the data so far:
             * undone, to be decoded again when more data has come. */
            *s = before;
            memset(line, 0, (size_t)s->width);
            s->status = T4_DECODE_NEED_DATA;
            break;
        }
        if (err)
            return fail(s, err, row);
        if (got == LINE_GOOD) {
            int *t = s->ref;
            s->ref = s->cur;
            s->cur = t;
            s->bad_run = 0;
            row++;
        } else if (got == LINE_BAD) {
            /* As receivers do: the line above stands in for a bad one. */
            if (row > 0)
                memcpy(line, line - stride, (size_t)s->width);
            else
                memset(line, 0, (size_t)s->width);
            count_bad(s);
            row++;
        } else if (got == LINE_CUT) {
            count_bad(s);
            row++;
        }
    }
    return row;
}
