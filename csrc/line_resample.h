/* Clock drift of the line model: band-limited resampling by a ratio close to
 * one, as when the sender's and the receiver's 8 kHz sample clocks differ by
 * some parts per million (the modems must hold lock through ±100 ppm).
 *
 * How: output sample k is the input evaluated at time t_k = k / ratio (in
 * input samples) by a windowed-sinc interpolator: 2·LINE_RESAMPLE_HALF taps
 * of a Kaiser-windowed sinc, tabulated at LINE_RESAMPLE_PHASES fractional
 * positions (a polyphase bank); the two phases either side of the exact
 * fraction are both applied and blended linearly, which keeps the timing error
 * far below what a 16-bit signal can show.  Not linear interpolation of the
 * samples: that would low-pass filter and alias.
 *
 * t_k is computed from k directly, never accumulated, and an output is made
 * as soon as the input it needs has arrived, so any split of the input into
 * blocks gives the same output.  The output lags the input by HALF samples;
 * ratio > 1 makes more output samples than input ones and lowers every
 * frequency by the same ratio.
 */
#ifndef FAXENGINE_LINE_RESAMPLE_H
#define FAXENGINE_LINE_RESAMPLE_H

#include <stdint.h>

#define LINE_RESAMPLE_HALF 32      /* taps each side of the interpolation point */
#define LINE_RESAMPLE_PHASES 512   /* fractional positions tabulated */

typedef struct {
    /* coef[p][j], p = 0..PHASES (one spare row for blending), applies to
     * x[floor(t) - HALF + 1 + j] when frac(t) = p / PHASES. */
    double coef[LINE_RESAMPLE_PHASES + 1][2 * LINE_RESAMPLE_HALF];
    double step;        /* input samples per output sample: 1 / ratio */
    int64_t k;          /* index of the next output sample */
    int64_t base;       /* absolute input index of buf[0] */
    int64_t received;   /* input samples received so far */
    double *buf;        /* input samples from base on */
    int len;            /* samples held in buf */
    int cap;            /* capacity of buf */
} line_resample_state_t;

/* ratio = output rate / input rate, e.g. 1 + 100e-6 for +100 ppm.
 * Returns 0, or -1 when memory runs out. */
int line_resample_init(line_resample_state_t *s, double ratio);
void line_resample_free(line_resample_state_t *s);
/* The most output samples a call with len input samples can give. */
int line_resample_max_out(const line_resample_state_t *s, int len);
/* Take len input samples, write up to max_out outputs; returns the number
 * written, or -1 when memory runs out. */
int line_resample_process(line_resample_state_t *s, const double *in, int len,
                          double *out, int max_out);

#endif
