/* Telephone-band filter: a biquad cascade.  See line_filter.h. */
#include <string.h>

#include "line_filter.h"

int line_biquads_init(line_biquads_state_t *s, const double *sos, int sections)
{
    memset(s, 0, sizeof(*s));
    if (sections < 0 || sections > LINE_BIQUADS_MAX)
        return -1;
    for (int i = 0; i < sections; i++) {
        const double *r = sos + 6 * i;
        if (r[3] == 0.0)
            return -1;
        s->b[i][0] = r[0] / r[3];
        s->b[i][1] = r[1] / r[3];
        s->b[i][2] = r[2] / r[3];
        s->a[i][0] = r[4] / r[3];
        s->a[i][1] = r[5] / r[3];
    }
    s->sections = sections;
    return 0;
}

void line_biquads_free(line_biquads_state_t *s)
{
    (void) s;
}

int line_biquads_process(line_biquads_state_t *s, const double *in, double *out, int len)
{
    if (in != out)
        memcpy(out, in, (size_t) len * sizeof(double));
    /* one section at a time over the whole block: the state stays in registers */
    for (int i = 0; i < s->sections; i++) {
        double b0 = s->b[i][0], b1 = s->b[i][1], b2 = s->b[i][2];
        double a1 = s->a[i][0], a2 = s->a[i][1];
        double z0 = s->z[i][0], z1 = s->z[i][1];
        for (int n = 0; n < len; n++) {
            double x = out[n];
            double y = b0 * x + z0;
            z0 = b1 * x - a1 * y + z1;
            z1 = b2 * x - a2 * y;
            out[n] = y;
        }
        s->z[i][0] = z0;
        s->z[i][1] = z1;
    }
    return len;
}
