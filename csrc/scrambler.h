/* scrambler.h: the self-synchronising scramblers of the high-speed modems.
 *
 *   V.29 §4 (and V.17 §5): generating polynomial 1 + x^-18 + x^-23.
 *   V.27ter §2.6: 1 + x^-6 + x^-7, with a guard against repetitive line
 *     patterns: when the scrambler output has matched, for 32 bits running,
 *     one of its own values 8, 9 or 12 bits earlier, the next bit is
 *     inverted (the descrambler undoes it by watching the line the same way).
 *
 * Each function handles one bit (0/1) and returns the line bit (scramble)
 * or the data bit (descramble).  The state is an integer register plus, for
 * V.27ter, the guard's counter; zero-initialise or set a start value.
 */
#ifndef FAXENGINE_SCRAMBLER_H
#define FAXENGINE_SCRAMBLER_H

#include <stdint.h>

typedef struct {
    uint32_t reg;
    int count;           /* V.27ter guard */
} scrambler_t;

static inline int v29_scramble(scrambler_t *s, int in)
{
    int out = (in ^ (int) (s->reg >> 17) ^ (int) (s->reg >> 22)) & 1;
    s->reg = (s->reg << 1) | (uint32_t) out;
    return out;
}

static inline int v29_descramble(scrambler_t *s, int in)
{
    int out = (in ^ (int) (s->reg >> 17) ^ (int) (s->reg >> 22)) & 1;
    s->reg = (s->reg << 1) | (uint32_t) (in & 1);
    return out;
}

/* The V.27ter guard watches the line bit against itself 8, 9 and 12 bits
 * earlier; returns 1 when the line bit must be inverted. */
static inline int v27ter_guard(scrambler_t *s, int line)
{
    if (s->count >= 33) {
        s->count = 0;
        return 1;
    }
    int r = (int) s->reg;
    if (((r >> 7) ^ line) & ((r >> 8) ^ line) & ((r >> 11) ^ line) & 1)
        s->count = 0;
    else
        s->count++;
    return 0;
}

static inline int v27ter_scramble(scrambler_t *s, int in)
{
    int out = (in ^ (int) (s->reg >> 5) ^ (int) (s->reg >> 6)) & 1;
    out ^= v27ter_guard(s, out);
    s->reg = (s->reg << 1) | (uint32_t) out;
    return out;
}

static inline int v27ter_descramble(scrambler_t *s, int in)
{
    in &= 1;
    int out = (in ^ (int) (s->reg >> 5) ^ (int) (s->reg >> 6)) & 1;
    out ^= v27ter_guard(s, in);
    s->reg = (s->reg << 1) | (uint32_t) in;
    return out;
}

#endif
