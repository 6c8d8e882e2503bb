/* modem_rx_driver.c: CPU time of our V.17/V.29/V.27ter receivers against
 * spandsp's, both called directly from C (no Python in the way).
 *
 * spandsp's transmitter makes 10 s of audio (random data, after its
 * training); each round builds each receiver and feeds it the audio in
 * 160-sample blocks, contenders in turn; the best round of each is kept
 * (CLOCK_PROCESS_CPUTIME_ID).  Ours is loaded from a shared object built
 * from csrc/ (its function names are spandsp's), with RTLD_DEEPBIND so
 * each library keeps its own symbols:
 *
 *   gcc -O3 -std=c99 -fno-math-errno -fPIC -shared -Icsrc -o /tmp/ours.so \
 *       csrc/v17rx.c csrc/v17_trellis.c csrc/v17tx.c csrc/qam_tx.c \
 *       csrc/v29rx.c csrc/v27ter_rx.c csrc/dsp_*.c -lm
 *   gcc -O2 -o /tmp/rxdrv bench/csrc/modem_rx_driver.c -lspandsp -ldl -lm
 *   /tmp/rxdrv /tmp/ours.so v17|v29|v27ter rate [rounds]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spandsp.h>

#define SECONDS 10
#define LEN (8000 * SECONDS)
#define BLOCK 160

static int16_t audio[LEN];
static unsigned rng = 12345;
static long spandsp_bits;

static int get_bit(void *user)
{
    (void) user;
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) & 1;
}

static void put_bit(void *user, int bit)
{
    (void) user;
    if (bit >= 0)
        spandsp_bits++;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef void *(*init_fn)(void *, int);
typedef int (*rx_fn)(void *, const int16_t *, int, uint8_t *);
typedef int (*free_fn)(void *);

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s ours.so v17|v29|v27ter rate [rounds]\n", argv[0]);
        return 2;
    }
    int v29 = strcmp(argv[2], "v29") == 0;
    int v17 = strcmp(argv[2], "v17") == 0;
    int rate = atoi(argv[3]);
    int rounds = argc > 4 ? atoi(argv[4]) : 60;
    if (!v29 && !v17 && strcmp(argv[2], "v27ter") != 0) {
        fprintf(stderr, "modem %s: say v17, v29 or v27ter\n", argv[2]);
        return 2;
    }
    if (rounds < 1) {
        fprintf(stderr, "rounds %s: give a whole number of at least 1\n", argv[4]);
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!h) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    init_fn our_init = (init_fn) dlsym(h, v17 ? "v17_rx_init" : v29 ? "v29_rx_init" : "v27ter_rx_init");
    rx_fn our_rx = (rx_fn) dlsym(h, v17 ? "v17_rx" : v29 ? "v29_rx" : "v27ter_rx");
    free_fn our_free = (free_fn) dlsym(h, v17 ? "v17_rx_free" : v29 ? "v29_rx_free" : "v27ter_rx_free");
    if (!our_init || !our_rx || !our_free) {
        fprintf(stderr, "%s has no %s receiver: build it from csrc/ as above\n", argv[1], argv[2]);
        return 1;
    }
    void *probe = our_init(NULL, rate);
    if (!probe) {
        fprintf(stderr, "rate %s: not one of %s's rates\n", argv[3], argv[2]);
        return 2;
    }
    our_free(probe);

    if (v17) {
        v17_tx_state_t *tx = v17_tx_init(NULL, rate, 0, get_bit, NULL);
        v17_tx(tx, audio, LEN);
        v17_tx_free(tx);
    } else if (v29) {
        v29_tx_state_t *tx = v29_tx_init(NULL, rate, 0, get_bit, NULL);
        v29_tx(tx, audio, LEN);
        v29_tx_free(tx);
    } else {
        v27ter_tx_state_t *tx = v27ter_tx_init(NULL, rate, 0, get_bit, NULL);
        v27ter_tx(tx, audio, LEN);
        v27ter_tx_free(tx);
    }
    static uint8_t bits[16 * BLOCK];
    double best_ours = 1e9, best_ref = 1e9;
    long our_bits = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu_now();
        spandsp_bits = 0;
        if (v17) {
            v17_rx_state_t *rx = v17_rx_init(NULL, rate, put_bit, NULL);
            for (int i = 0; i < LEN; i += BLOCK)
                v17_rx(rx, audio + i, BLOCK);
            v17_rx_free(rx);
        } else if (v29) {
            v29_rx_state_t *rx = v29_rx_init(NULL, rate, put_bit, NULL);
            for (int i = 0; i < LEN; i += BLOCK)
                v29_rx(rx, audio + i, BLOCK);
            v29_rx_free(rx);
        } else {
            v27ter_rx_state_t *rx = v27ter_rx_init(NULL, rate, put_bit, NULL);
            for (int i = 0; i < LEN; i += BLOCK)
                v27ter_rx(rx, audio + i, BLOCK);
            v27ter_rx_free(rx);
        }
        double t1 = cpu_now();
        our_bits = 0;
        void *rx = our_init(NULL, rate);
        for (int i = 0; i < LEN; i += BLOCK)
            our_bits += our_rx(rx, audio + i, BLOCK, bits);
        our_free(rx);
        double t2 = cpu_now();
        if (t1 - t0 < best_ref)
            best_ref = t1 - t0;
        if (t2 - t1 < best_ours)
            best_ours = t2 - t1;
    }
    printf("%s %d: ours %.3f ms (%ld bits) spandsp %.3f ms (%ld bits) ratio %.3fx\n", argv[2], rate,
           best_ours * 1e3, our_bits, best_ref * 1e3, spandsp_bits, best_ref / best_ours);
    return 0;
}
