/*
 * T.4 / T.6 page decoder: MH, MR or MMR code in (MSB first, TIFF FillOrder 1),
 * one byte per pel out (0 = white, 1 = black).
 *
 * Accepts what T.4 terminals and libtiff write: G3 lines with or without fill
 * bits before an EOL (also EOLs aligned to byte boundaries), with or without
 * RTC; G4 with EOFB or ending at the end of the data.  Two consecutive EOLs
 * end a G3 page (RTC).  A G3 page starts at its first EOL (T.4 §4.1.2: EOL
 * precedes the first line): bits before it, even a whole coded line, are not
 * part of the page, as libtiff and spandsp read it.  Code that T.4 does not
 * foresee we read as libtiff does: a run whose make-up codes reach
 * the end of the line exactly and that has no terminating code before the
 * EOL (or fill, or the end of the data) ends there; a pass mode whose b2 is
 * the end of the line carries a0's colour to the end of the line and ends
 * it.
 * Code no encoder sends and decoders read differently is an error, not a
 * guess: a horizontal mode with an empty run in mid-line, an empty run in
 * mid-line of an MR 1-D line (T4_ERR_BAD_HORIZONTAL, T4_ERR_EMPTY_RUN below).
 * Strict mode with no height given also refuses data in which it finds no
 * line and no end of page (T4_ERR_NO_LINE): an empty page is RTC, EOFB or
 * no data at all.
 *
 * Strict mode stops at the first error and records which line, which bit and
 * why.  Lenient mode is a receiver on a noisy line without ECM:
 * a line with an error is replaced by the line above it (white for the first
 * line) and counted bad, decoding resumes after the next EOL; in MR the 2-D
 * lines after a bad line are bad too until the next 1-D line, because their
 * reference line is lost.  MMR has no EOL to resume from, so lenient MMR
 * keeps the lines before the error, counts the line at the error bad and
 * ends the page.  A line cut off by the end of the data keeps the pels
 * decoded before the end, the rest white (as libtiff draws it), and is
 * counted bad.  When a height is given, lines missing at the end of the
 * page are white and counted bad.
 *
 * MH without EOLs (t4_t6_decode_set_framing, TIFF Compression 2 and 32771,
 * see T4_FRAME_* in t4_codes.h): each line starts at the next boundary of
 * the alignment asked for (the bits skipped are not looked at, as libtiff
 * does not) and ends where its runs reach the width.  The page ends with the
 * data, or where only zero bits are left (no line code starts with eight
 * zeros).  Like MMR it has nothing to resume at: lenient mode keeps the lines
 * before an error, counts the line at the error bad and ends the page.
 *
 * Data in pieces (an ECM page, block by block): t4_t6_decode_feed with
 * more = 1 gives the data so far; a line is decoded only when all the bits
 * its decoding looks at (the line, the EOLs after it, the look-ahead of the
 * bit reader) are in, else t4_t6_decode_rows stops before it with
 * T4_DECODE_NEED_DATA and decodes it again after the next feed.  So the
 * rows, bad lines and errors are those of one decode of all the data,
 * however it was split; the last feed (more = 0) says the data end there.
 *
 * Lifecycle: t4_t6_decode_init, t4_t6_decode_set_framing if the lines have
 * no EOLs, then t4_t6_decode_rows as often as the caller has room for more
 * rows (and t4_t6_decode_feed when more data came), then t4_t6_decode_free.
 */
#ifndef FAXENGINE_T4_T6_DECODE_H
#define FAXENGINE_T4_T6_DECODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct t4_t6_decode_state_s t4_t6_decode_state_t;

enum t4_decode_status {
    T4_DECODE_MORE = 0,    /* the rows given are full, the page goes on */
    T4_DECODE_END = 1,     /* the page has ended (RTC, EOFB, end of data or height) */
    T4_DECODE_ERROR = 2,   /* strict mode: an error, see t4_t6_decode_error */
    T4_DECODE_NEED_DATA = 3  /* the next line needs data not fed yet (more = 1) */
};

enum t4_decode_error {
    T4_ERR_NONE = 0,
    T4_ERR_WHITE_CODE,       /* no white run code matches */
    T4_ERR_BLACK_CODE,       /* no black run code matches */
    T4_ERR_MODE_CODE,        /* no 2-D mode code matches */
    T4_ERR_UNCOMPRESSED,     /* extension 0000001111 (2-D), 000000001111 (1-D): uncompressed mode */
    T4_ERR_EXTENSION,        /* another 2-D extension code */
    T4_ERR_EOL_IN_LINE,      /* an EOL before the line was complete */
    T4_ERR_RUN_TOO_LONG,     /* a run goes past the end of the line */
    T4_ERR_BAD_VERTICAL,     /* a vertical mode puts a1 outside (a0, width] */
    T4_ERR_NO_EOL,           /* G3: a line not followed by EOL (too long) */
    T4_ERR_MR_NO_EOL,        /* not used any more: a first line without EOL is dropped */
    T4_ERR_TRUNCATED,        /* the data end inside a line */
    T4_ERR_SHORT_PAGE,       /* the page ended before the height given */
    T4_ERR_NO_MEMORY,
    T4_ERR_BAD_HORIZONTAL,   /* horizontal mode: a1 = a0 in mid-line, or a2 = a1 < width */
    T4_ERR_BAD_PASS,         /* not used any more: a pass to the end of the line ends it */
    T4_ERR_EMPTY_RUN,        /* MR 1-D line: an empty run other than the first white one */
    T4_ERR_NO_LINE           /* strict, height unknown: data (not none) with no line and
                              * no RTC / EOFB (not this coding, or not coded image data) */
};

/* coding: T4_CODING_MH/MR/MMR.  data must outlive the state.  height > 0
 * is the number of rows the page has (strict: fewer is an error; lenient:
 * the missing rows are white and bad); 0 when unknown.  Returns NULL when
 * out of memory or on bad arguments. */
t4_t6_decode_state_t *t4_t6_decode_init(int coding, int width, const uint8_t *data,
                                        size_t len, int lenient, int height);

/* MH lines without EOLs: framing is T4_FRAME_NO_EOL, alone or with
 * T4_FRAME_ALIGN_8 or T4_FRAME_ALIGN_16.  Call before the first
 * t4_t6_decode_rows.  Returns 0, or -1 (nothing changed) when the framing is
 * not one of those or the coding is not MH. */
int t4_t6_decode_set_framing(t4_t6_decode_state_t *s, int framing);

/* Decodes rows first_row..max_rows-1 into image (row y at image + y*stride;
 * rows 0..first_row-1 hold what earlier calls decoded and must be there,
 * rows from first_row on must be zero).  Returns the number of rows the
 * image has now; t4_t6_decode_status says why it stopped. */
int t4_t6_decode_rows(t4_t6_decode_state_t *s, uint8_t *image, ptrdiff_t stride,
                      int first_row, int max_rows);

/* The data so far: the same bytes as before (at the same or another
 * address, which must outlive the state or the next feed) and maybe more;
 * more != 0 when more will follow.  Returns 0, or -1 (nothing changed) when
 * len is less than before. */
int t4_t6_decode_feed(t4_t6_decode_state_t *s, const uint8_t *data, size_t len, int more);

int t4_t6_decode_status(const t4_t6_decode_state_t *s);

/* 1 once the page ended at its own mark (RTC, EOFB: T.4 §4.1.4, T.6 §2.4.1.1),
 * 0 while it goes on or when it ended at the end of the data or the height. */
int t4_t6_decode_end_mark(const t4_t6_decode_state_t *s);

/* The error (strict mode), the 0-based line it is in, the bit offset from
 * the start of the data where the offending code starts. */
int t4_t6_decode_error(const t4_t6_decode_state_t *s, int *line, long *bit);

/* Lenient mode: bad lines, the longest run of consecutive bad lines. */
void t4_t6_decode_bad_lines(const t4_t6_decode_state_t *s, int *count, int *longest_run);

void t4_t6_decode_free(t4_t6_decode_state_t *s);

#endif
