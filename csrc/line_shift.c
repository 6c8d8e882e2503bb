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
     * Kaiser windowed, centred on x[n-D]: x[n-2j] = x[(n-D) - m] with
     * m = 2j - D, odd because D is. */
    for (int j = 0; j < LINE_SHIFT_NZ; j++) {
        int m = 2 * j - LINE_SHIFT_DELAY;
        double r = (double) m / LINE_SHIFT_DELAY;
        s->coef[j] = 4.0 / (TWO_PI * m) * line_kaiser(r, beta);
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
        int p = s->parity;
        double *h = s->hist[p];
        int pos = s->pos[p];
        h[pos] = in[n];
        h[pos + LINE_SHIFT_NZ] = in[n];
        /* w[-j] is x[n - 2j], j = 0..NZ-1 */
        const double *w = &h[pos + LINE_SHIFT_NZ];
        /* four partial sums: breaks the chain of dependent additions */
        double q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0;
        for (int j = 0; j < LINE_SHIFT_NZ; j += 4) {
            q0 += s->coef[j] * w[-j];
            q1 += s->coef[j + 1] * w[-j - 1];
            q2 += s->coef[j + 2] * w[-j - 2];
            q3 += s->coef[j + 3] * w[-j - 3];
        }
        double q = (q0 + q1) + (q2 + q3);
        /* x[n-D], D odd: the other parity, (D-1)/2 samples back from its newest */
        const double *o = &s->hist[p ^ 1][s->pos[p ^ 1] + LINE_SHIFT_NZ - 1];
        double i = o[-(LINE_SHIFT_DELAY - 1) / 2];
        out[n] = i * cos(s->phase) - q * sin(s->phase);
        s->phase += s->step;
        if (s->phase >= TWO_PI)
            s->phase -= TWO_PI;
        else if (s->phase < 0.0)
            s->phase += TWO_PI;
        if (++s->pos[p] == LINE_SHIFT_NZ)
            s->pos[p] = 0;
        s->parity = p ^ 1;
    }
    return len;
}
