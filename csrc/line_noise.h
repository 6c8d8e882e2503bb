/* Additive white Gaussian noise of the line model, and the conversion of the
 * line's float signal back to 16-bit samples.
 *
 * The noise is white over the whole 0–4000 Hz band (independent samples at
 * 8000/s), of standard deviation sigma in 16-bit sample units.  It comes from
 * a seeded xoshiro256** generator (splitmix64 expands the seed) through the
 * Marsaglia polar method, with the spare deviate kept in the state, so the
 * same seed gives the same noise on every platform and any split of the input
 * into blocks gives the same output.
 */
#ifndef FAXENGINE_LINE_NOISE_H
#define FAXENGINE_LINE_NOISE_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];      /* xoshiro256** state */
    double sigma;
    double spare;       /* second deviate of the last polar pair */
    int have_spare;
} line_noise_state_t;

void line_noise_init(line_noise_state_t *s, uint64_t seed, double sigma);
void line_noise_free(line_noise_state_t *s);
/* out[n] = in[n] + noise (in and out may be the same buffer); returns len. */
int line_noise_add(line_noise_state_t *s, const double *in, double *out, int len);
/* Round to nearest and saturate to int16; returns the number of samples that
 * were clipped. */
int line_to_int16(const double *in, int16_t *out, int len);

#endif
