/* Test helper: ask libspandsp's T.30 for the DIS it builds, and for its
   decoding of DIS/DTC/DCS frames, so tests/t30 can cross-check
   faxengine.t30.facilities against the reference peer.

   spandsp_dis dis MODEMS COMPRESSIONS RESOLUTIONS SIZES ECM
       prints the DIS frame (address, control, FCF, FIF) spandsp's answering
       terminal sends, in hex, given its T30_SUPPORT_* masks.
   spandsp_dis decode HEX
       prints spandsp's decoding (t30_decode_dis_dtc_dcs) of the frame HEX. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>

static int got_dis = 0;

static void on_hdlc(void *user_data, const uint8_t msg[], int len)
{
    (void) user_data;
    if (msg == NULL || len < 3 || got_dis)
        return;
    if ((msg[2] & 0xFE) == 0x80) {      /* DIS */
        for (int i = 0; i < len; i++)
            printf("%02x", msg[i]);
        printf("\n");
        got_dis = 1;
    }
}

static void on_set(void *user_data, int type, int bit_rate, int short_train, int use_hdlc)
{
    (void) user_data; (void) type; (void) bit_rate; (void) short_train; (void) use_hdlc;
}

static void on_log(int level, const char *text)
{
    (void) level;
    fputs(text, stdout);
}

int main(int argc, char *argv[])
{
    t30_state_t *s = t30_init(NULL, 0, on_set, NULL, on_set, NULL, on_hdlc, NULL);
    if (s == NULL)
        return 2;
    if (argc == 7 && strcmp(argv[1], "dis") == 0) {
        t30_set_supported_modems(s, (int) strtol(argv[2], NULL, 0));
        t30_set_supported_compressions(s, (int) strtol(argv[3], NULL, 0));
        t30_set_supported_resolutions(s, (int) strtol(argv[4], NULL, 0));
        t30_set_supported_image_sizes(s, (int) strtol(argv[5], NULL, 0));
        t30_set_ecm_capability(s, (int) strtol(argv[6], NULL, 0));
        t30_set_rx_file(s, "/dev/null", -1);
        t30_restart(s);
        for (int i = 0; i < 10 && !got_dis; i++)
            t30_front_end_status(s, T30_FRONT_END_SEND_STEP_COMPLETE);
        return got_dis ? 0 : 1;
    }
    if (argc == 3 && strcmp(argv[1], "decode") == 0) {
        uint8_t buf[256];
        int len = 0;
        for (const char *p = argv[2]; p[0] && p[1] && len < (int) sizeof(buf); p += 2) {
            unsigned int v;
            sscanf(p, "%2x", &v);
            buf[len++] = (uint8_t) v;
        }
        logging_state_t *log = t30_get_logging_state(s);
        span_log_set_level(log, SPAN_LOG_FLOW);
        span_log_set_message_handler(log, on_log);
        t30_decode_dis_dtc_dcs(s, buf, len);
        return 0;
    }
    fprintf(stderr, "usage: spandsp_dis dis MODEMS COMPRESSIONS RESOLUTIONS SIZES ECM | decode HEX\n");
    return 2;
}
