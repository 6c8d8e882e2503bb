/* Carrier offset: frequency shift of a real signal through its analytic
 * signal.  See line_shift.h for what and why. */
#include <math.h>
#include <string.h>

#include "line_kaiser.h"
#include "line_shift.h"

#define TWO_PI (2.0 * LINE_PI)

void line_shift_init(line_shift_state_t *s, double offset_hz, double sample_rate)
{
    const double beta = 8.0;
    memset(s, 0, sizeof(*s));
    /* Ideal Hilbert transformer h[m] = 2/(π·m) for odd m, 0 for even m,
     * Kaiser windowed. coef[k] applies to x[n-k] = x[(n-D) - m], so m = k - D. */
    for (int k = 0; k < LINE_SHIFT_TAPS; k++) {
        int m = k - LINE_SHIFT_DELAY;
        if (m % 2 == 0) {
            s->coef[k] = 0.0;
            continue;
        }
        double r = (double) m / LINE_SHIFT_DELAY;
        double w = line_kaiser(r, beta);
        s->coef[k] = 4.0 / (TWO_PI * m) * w;
    }
    s->step = TWO_PI * offset_hz / sample_rate;
}

void line_shift_free(line_shift_state_t *s)
{
    (void) s;
}

int line_shift_process(line_shift_state_t *s, const double *in, double *out, int len)
{
    for (int n = 0; n < len; n++) {
        /* hist[pos] and hist[pos + TAPS] both hold the newest sample, so
         * hist[pos + TAPS - k] is x[n-k] for k = 0..TAPS-1 without wrapping. */
        s->hist[s->pos] = in[n];
        s->hist[s->pos + LINE_SHIFT_TAPS] = in[n];
        const double *x = &s->hist[s->pos + LINE_SHIFT_TAPS];
        double q = 0.0;
        /* only taps at odd distance from the centre are non-zero */
        for (int k = (LINE_SHIFT_DELAY + 1) % 2; k < LINE_SHIFT_TAPS; k += 2)
            q += s->coef[k] * x[-k];
        double i = x[-LINE_SHIFT_DELAY];
        out[n] = i * cos(s->phase) - q * sin(s->phase);
        s->phase += s->step;
        if (s->phase >= TWO_PI)
            s->phase -= TWO_PI;
        else if (s->phase < 0.0)
            s->phase += TWO_PI;
        if (++s->pos == LINE_SHIFT_TAPS)
            s->pos = 0;
    }
    return len;
}
