/* Seeded white Gaussian noise and saturation to int16.  See line_noise.h. */
#include <math.h>

#include "line_noise.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t next_u64(line_noise_state_t *s)
{
    uint64_t *q = s->s;
    uint64_t result = rotl(q[1] * 5, 7) * 9;
    uint64_t t = q[1] << 17;
    q[2] ^= q[0];
    q[3] ^= q[1];
    q[1] ^= q[2];
    q[0] ^= q[3];
    q[2] ^= t;
    q[3] = rotl(q[3], 45);
    return result;
}

/* uniform in (-1, 1) with 53 bits */
static inline double next_uniform(line_noise_state_t *s)
{
    return (double) (next_u64(s) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static double next_gaussian(line_noise_state_t *s)
{
    if (s->have_spare) {
        s->have_spare = 0;
        return s->spare;
    }
    double u, v, r;
    do {
        u = next_uniform(s);
        v = next_uniform(s);
        r = u * u + v * v;
    } while (r >= 1.0 || r == 0.0);
    double f = sqrt(-2.0 * log(r) / r);
    s->spare = v * f;
    s->have_spare = 1;
    return u * f;
}

void line_noise_init(line_noise_state_t *s, uint64_t seed, double sigma)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        s->s[i] = splitmix64(&x);
    s->sigma = sigma;
    s->spare = 0.0;
    s->have_spare = 0;
}

void line_noise_free(line_noise_state_t *s)
{
    (void) s;
}

int line_noise_add(line_noise_state_t *s, const double *in, double *out, int len)
{
    for (int n = 0; n < len; n++)
        out[n] = in[n] + s->sigma * next_gaussian(s);
    return len;
}

int line_to_int16(const double *in, int16_t *out, int len)
{
    int clipped = 0;
    for (int n = 0; n < len; n++) {
        double x = floor(in[n] + 0.5);
        if (x > 32767.0) {
            x = 32767.0;
            clipped++;
        } else if (x < -32768.0) {
            x = -32768.0;
            clipped++;
        }
        out[n] = (int16_t) x;
    }
    return clipped;
}
