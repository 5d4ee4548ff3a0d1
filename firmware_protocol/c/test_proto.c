/*
 * Host tests of the C reference codec (imurep_proto.c).
 *
 *   test_proto                      run every conformance vector (test_vectors.h, generated from
 *                                   firmware_protocol/vectors/ by tools/vectors_to_c.py) and the
 *                                   unit tests of the firmware helpers; exit status 0 = all passed
 *   test_proto frames  < script     encode frames described on stdin, print them as hex (one per
 *                                   line) — compared with the Python encoder by the pytest suite
 *   test_proto stream MTU LATENCY_MS CLOCK_HZ CAPACITY < script
 *                                   run the ring buffer + packetizer on a scripted sample stream
 *                                   and print every committed notification as hex
 *
 * frames script lines:  imu CFG INDEX T N a0 .. a(6N-1) | status CODE CFG INDEX T VALUE
 *                       | compact INDEX T a0 .. a5 | cmd OPCODE ODR ACC GYR LATENCY
 * stream script lines:  s T a0 .. a5 (push a sample taken at device time T, then send what is due)
 *                       | skip N | txoff | txon | flush T (send everything, partial frames too)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imurep_proto.h"
#include "test_vectors.h"

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        ++g_checks;                                                                               \
        if (!(cond)) {                                                                            \
            ++g_failures;                                                                         \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                                         \
            fputc('\n', stderr);                                                                  \
        }                                                                                         \
    } while (0)

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void print_hex(const uint8_t *p, size_t n)
{
    size_t k;
    for (k = 0; k < n; ++k) {
        printf("%02x", p[k]);
    }
    printf("\n");
}

/* ---- conformance vectors ------------------------------------------------------------------- */

static void test_frame_vectors(void)
{
    size_t i;
    size_t k;
    for (i = 0; i < TV_N_FRAMES; ++i) {
        const tv_frame_t *v = &TV_FRAMES[i];
        imurep_frame_t f;
        uint8_t buf[256];
        size_t len = 0;
        imurep_result_t r = imurep_parse_frame(v->bytes, v->len, &f);
        if (v->kind == 0) {
            CHECK(r == v->err, "%s: got %d, expected %d", v->name, (int)r, (int)v->err);
            continue;
        }
        CHECK(r == IMUREP_OK, "%s: rejected with %d", v->name, (int)r);
        if (r != IMUREP_OK) {
            continue;
        }
        CHECK((int)f.kind == v->kind, "%s: kind %d", v->name, (int)f.kind);
        CHECK(f.proto_major == 1u && f.frame_type == v->frame_type, "%s: header", v->name);
        CHECK(f.length == v->len, "%s: length", v->name);
        if (f.kind == IMUREP_KIND_UNKNOWN) {
            continue;
        }
        CHECK(f.index == v->index, "%s: index %lu", v->name, (unsigned long)f.index);
        CHECK(f.t_device == v->t_device, "%s: t_device %lu", v->name, (unsigned long)f.t_device);
        if (f.kind == IMUREP_KIND_STATUS) {
            CHECK(f.code == v->code && f.config_id == v->config_id && f.value == v->value, "%s: status",
                  v->name);
            len = imurep_encode_status_frame(buf, sizeof buf, f.code, f.config_id, f.index, f.t_device,
                                             f.value);
        } else {
            imurep_sample_t s[IMUREP_MAX_SAMPLES_PER_FRAME];
            CHECK(f.n == v->n, "%s: n %u", v->name, (unsigned)f.n);
            for (k = 0; k < f.n; ++k) {
                imurep_frame_sample(&f, k, &s[k]);
                CHECK(memcmp(&s[k], &v->samples[k], sizeof s[k]) == 0, "%s: sample %lu", v->name,
                      (unsigned long)k);
            }
            if (f.kind == IMUREP_KIND_IMU) {
                CHECK(f.config_id == v->config_id, "%s: config_id", v->name);
                len = imurep_encode_imu_frame(buf, sizeof buf, v->config_id, v->index, v->t_device,
                                              v->samples, v->n);
            } else {
                len = imurep_encode_compact_frame(buf, sizeof buf, v->index, v->t_device, v->samples);
            }
        }
        CHECK(len == v->len && memcmp(buf, v->bytes, len) == 0, "%s: re-encoding differs", v->name);
        /* every strict prefix of a valid frame is rejected (never read out of bounds) */
        for (k = 0; k < v->len; ++k) {
            imurep_result_t rp = imurep_parse_frame(v->bytes, k, &f);
            CHECK(rp != IMUREP_OK, "%s: prefix %lu accepted",
                  v->name, (unsigned long)k);
        }
    }
}

static void info_fields(const imurep_info_t *i, uint32_t f[16])
{
    f[0] = i->proto_major;
    f[1] = i->proto_minor;
    f[2] = i->features;
    f[3] = i->imu_model;
    f[4] = i->config_id;
    f[5] = i->state;
    f[6] = i->max_samples_per_frame;
    f[7] = i->odr_mhz;
    f[8] = i->acc_range_g;
    f[9] = i->gyr_range_dps;
    f[10] = f32_bits(i->acc_lsb_g);
    f[11] = f32_bits(i->gyr_lsb_dps);
    f[12] = i->clock_hz;
    f[13] = i->max_latency_ms;
    f[14] = i->mount;
    f[15] = i->reserved;
}

static void test_info_vectors(void)
{
    size_t i;
    for (i = 0; i < TV_N_INFO; ++i) {
        const tv_info_t *v = &TV_INFO[i];
        imurep_info_t info;
        uint32_t got[16];
        uint8_t buf[64];
        imurep_result_t r = imurep_decode_info(v->bytes, v->len, &info);
        if (v->kind == 0) {
            CHECK(r == v->err, "%s: got %d, expected %d", v->name, (int)r, (int)v->err);
            continue;
        }
        CHECK(r == IMUREP_OK, "%s: rejected with %d", v->name, (int)r);
        if (r != IMUREP_OK || v->kind != 1) {
            continue;
        }
        info_fields(&info, got);
        CHECK(memcmp(got, v->expect, sizeof got) == 0, "%s: fields differ", v->name);
        CHECK(imurep_encode_info(buf, sizeof buf, &info) == 32u && memcmp(buf, v->bytes, 32) == 0,
              "%s: re-encoding differs", v->name);
    }
    /* zero and non-finite scale factors are refused */
    {
        uint8_t buf[32];
        memcpy(buf, TV_INFO[0].bytes, 32);
        buf[16] = buf[17] = buf[18] = buf[19] = 0;
        CHECK(imurep_decode_info(buf, 32, NULL) == IMUREP_E_VALUE, "zero acc_lsb_g");
        memcpy(buf, TV_INFO[0].bytes, 32);
        buf[22] = 0x80;
        buf[23] = 0x7f; /* +inf */
        buf[20] = buf[21] = 0;
        CHECK(imurep_decode_info(buf, 32, NULL) == IMUREP_E_VALUE, "inf gyr_lsb_dps");
    }
}

static void test_command_vectors(void)
{
    size_t i;
    for (i = 0; i < TV_N_COMMANDS; ++i) {
        const tv_command_t *v = &TV_COMMANDS[i];
        imurep_command_t c;
        uint8_t buf[16];
        size_t len;
        uint8_t err = imurep_decode_command(v->bytes, v->len, &c);
        CHECK(err == v->att_error, "%s: att error 0x%02x, expected 0x%02x", v->name, err, v->att_error);
        if (v->att_error != 0u) {
            imurep_cp_t cp;
            imurep_config_t cfg = {104000u, 8u, 1000u, 50u};
            imurep_action_t act;
            imurep_cp_init(&cp, &cfg);
            CHECK(imurep_cp_handle(&cp, v->bytes, v->len, &act) == v->att_error && act == IMUREP_ACTION_NONE,
                  "%s: state machine", v->name);
            continue;
        }
        CHECK(c.opcode == v->opcode, "%s: opcode", v->name);
        if (c.opcode == IMUREP_OP_START || c.opcode == IMUREP_OP_SET_CONFIG) {
            CHECK(c.params.odr_hz == v->odr_hz && c.params.acc_range_g == v->acc_range_g &&
                      c.params.gyr_range_dps == v->gyr_range_dps &&
                      c.params.max_latency_ms == v->max_latency_ms,
                  "%s: params", v->name);
        }
        if (c.opcode == IMUREP_OP_IDENTIFY) {
            CHECK(c.identify_s == v->seconds, "%s: seconds", v->name);
        }
        len = imurep_encode_command(buf, sizeof buf, &c);
        CHECK(len == v->len && memcmp(buf, v->bytes, len) == 0, "%s: re-encoding differs", v->name);
    }
}

/* The host rules of PROTOCOL.md §2.4 (index unwrapping, gaps, duplicates) on the stream vectors. */
static void test_stream_vectors(void)
{
    size_t i;
    size_t k;
    for (i = 0; i < TV_N_STREAMS; ++i) {
        const tv_stream_t *v = &TV_STREAMS[i];
        uint64_t expected = 0;
        int have = 0;
        uint32_t samples = 0;
        uint32_t gaps = 0;
        uint32_t gap_samples = 0;
        uint32_t dups = 0;
        imurep_info_t info;
        CHECK(imurep_decode_info(v->info, v->info_len, &info) == IMUREP_OK, "%s: info", v->name);
        for (k = 0; k < v->n_frames; ++k) {
            imurep_frame_t f;
            uint64_t first;
            CHECK(imurep_parse_frame(v->frames[k].bytes, v->frames[k].len, &f) == IMUREP_OK, "%s: frame",
                  v->name);
            CHECK(f.kind == IMUREP_KIND_IMU && f.config_id == info.config_id, "%s: frame kind", v->name);
            if (!have) {
                first = f.index;
                have = 1;
            } else {
                /* signed 32-bit difference to the expected index, unwrapped to 64 bits */
                uint32_t d = (uint32_t)(f.index - (uint32_t)expected);
                first = d >= 0x80000000u ? expected - (uint64_t)(0x100000000ull - d) : expected + d;
            }
            if (have && k > 0 && first + f.n <= expected) {
                ++dups;
                continue;
            }
            if (k > 0 && first > expected) {
                ++gaps;
                gap_samples += (uint32_t)(first - expected);
            }
            samples += (uint32_t)(first + f.n - (first < expected && k > 0 ? expected : first));
            expected = first + f.n;
        }
        CHECK(samples == v->samples && gaps == v->gaps && gap_samples == v->gap_samples &&
                  dups == v->duplicates,
              "%s: samples %lu gaps %lu (%lu) dups %lu", v->name, (unsigned long)samples,
              (unsigned long)gaps, (unsigned long)gap_samples, (unsigned long)dups);
    }
}

static void test_uuids(void)
{
    CHECK(memcmp(IMUREP_UUID_SERVICE, TV_UUID_SERVICE, 16) == 0, "service uuid");
    CHECK(memcmp(IMUREP_UUID_DATA, TV_UUID_DATA, 16) == 0, "data uuid");
    CHECK(memcmp(IMUREP_UUID_CONTROL_POINT, TV_UUID_CONTROL_POINT, 16) == 0, "control point uuid");
    CHECK(memcmp(IMUREP_UUID_INFO, TV_UUID_INFO, 16) == 0, "info uuid");
}

/* ---- firmware helpers ---------------------------------------------------------------------- */

static void test_sizes_and_flush_policy(void)
{
    uint8_t m[4];
    CHECK(imurep_samples_per_frame(23) == 0u, "mtu 23");
    CHECK(imurep_samples_per_frame(26) == 0u, "mtu 26");
    CHECK(imurep_samples_per_frame(27) == 1u, "mtu 27");
    CHECK(imurep_samples_per_frame(38) == 1u, "mtu 38");
    CHECK(imurep_samples_per_frame(39) == 2u, "mtu 39");
    CHECK(imurep_samples_per_frame(185) == 14u, "mtu 185");
    CHECK(imurep_samples_per_frame(247) == 19u, "mtu 247");
    CHECK(imurep_samples_per_frame(517) == 19u, "mtu 517");
    CHECK(imurep_samples_per_frame(0) == 0u, "mtu 0");
    CHECK(!imurep_flush_due(0, 19, 0, 1000000u, 10), "empty never due");
    CHECK(imurep_flush_due(19, 19, 100, 100, 50000), "full");
    CHECK(imurep_flush_due(1, 0, 100, 100, 50000), "compact: one sample is a full frame");
    CHECK(!imurep_flush_due(5, 19, 100, 50099, 50000), "not yet");
    CHECK(imurep_flush_due(5, 19, 100, 50100, 50000), "latency elapsed");
    CHECK(imurep_flush_due(5, 19, 0xFFFFFFF0u, 0x10u, 0x20u), "latency across the clock wrap");
    CHECK(!imurep_flush_due(5, 19, 0xFFFFFFF0u, 0x10u, 0x21u), "not yet across the wrap");
    CHECK(imurep_encode_mfr_data(m, sizeof m, 87) == 4u && m[0] == 0xFF && m[1] == 0xFF && m[2] == 1 &&
              m[3] == 87,
          "manufacturer data");
    CHECK(imurep_encode_imu_frame(m, sizeof m, 0, 0, 0, NULL, 1) == 0u, "NULL samples refused");
}

static void test_control_point(void)
{
    imurep_cp_t cp;
    imurep_config_t initial = {104000u, 8u, 1000u, 50u};
    imurep_action_t act;
    imurep_info_t info;
    uint8_t buf[40];
    uint8_t cmd[8];
    imurep_command_t c;
    size_t n;
    imurep_cp_init(&cp, &initial);

    /* the default info struct equals the Python DeviceInfo() (vector lsm6ds3trc_104hz) */
    imurep_cp_info(&cp, IMUREP_IMU_LSM6DS3TRC, 1000000u, imurep_samples_per_frame(247), 0, &info);
    CHECK(imurep_encode_info(buf, sizeof buf, &info) == 32u && memcmp(buf, TV_INFO[0].bytes, 32) == 0,
          "default info equals the Python vector");

    memset(&c, 0, sizeof c);
    c.opcode = IMUREP_OP_START;
    c.params.odr_hz = 104;
    c.params.acc_range_g = 8;
    c.params.gyr_range_dps = 1000;
    c.params.max_latency_ms = 50;
    n = imurep_encode_command(cmd, sizeof cmd, &c);
    CHECK(imurep_cp_handle(&cp, cmd, n, &act) == 0u && act == IMUREP_ACTION_START && cp.streaming,
          "START");
    CHECK(cp.config_id == 0u, "same configuration: config_id unchanged");

    c.opcode = IMUREP_OP_SET_CONFIG;
    n = imurep_encode_command(cmd, sizeof cmd, &c);
    CHECK(imurep_cp_handle(&cp, cmd, n, &act) == IMUREP_ERR_INVALID_STATE && act == IMUREP_ACTION_NONE,
          "SET_CONFIG while streaming");

    c.opcode = IMUREP_OP_START;
    c.params.odr_hz = 1000; /* 833 and 1666 are both > 10 % away */
    n = imurep_encode_command(cmd, sizeof cmd, &c);
    CHECK(imurep_cp_handle(&cp, cmd, n, &act) == IMUREP_ERR_UNSUPPORTED_ODR, "1000 Hz");
    c.params.odr_hz = 104;
    c.params.acc_range_g = 3;
    n = imurep_encode_command(cmd, sizeof cmd, &c);
    CHECK(imurep_cp_handle(&cp, cmd, n, &act) == IMUREP_ERR_UNSUPPORTED_RANGE, "3 g");
    c.params.acc_range_g = 8;
    c.params.gyr_range_dps = 250;
    n = imurep_encode_command(cmd, sizeof cmd, &c);
    CHECK(imurep_cp_handle(&cp, cmd, n, &act) == IMUREP_ERR_UNSUPPORTED_RANGE, "250 dps");
    CHECK(cp.config.odr_mhz == 104000u && cp.config.gyr_range_dps == 1000u, "rejections change nothing");

    cmd[0] = IMUREP_OP_STOP;
    CHECK(imurep_cp_handle(&cp, cmd, 1, &act) == 0u && act == IMUREP_ACTION_STOP && !cp.streaming, "STOP");

    c.opcode = IMUREP_OP_SET_CONFIG;
    c.params.odr_hz = 833;
    c.params.acc_range_g = 16;
    c.params.gyr_range_dps = 2000;
    c.params.max_latency_ms = 10;
    n = imurep_encode_command(cmd, sizeof cmd, &c);
    CHECK(imurep_cp_handle(&cp, cmd, n, &act) == 0u && act == IMUREP_ACTION_CONFIGURE, "SET_CONFIG idle");
    CHECK(cp.config_id == 1u && cp.config.odr_mhz == 833000u && cp.config.acc_range_g == 16u &&
              cp.config.max_latency_ms == 10u,
          "SET_CONFIG applied, config_id bumped");

    c.opcode = IMUREP_OP_START;
    c.params.odr_hz = 100; /* snaps to 104 Hz (within 10 %) */
    c.params.acc_range_g = 0;
    c.params.gyr_range_dps = 0;
    c.params.max_latency_ms = 0; /* keep */
    n = imurep_encode_command(cmd, sizeof cmd, &c);
    CHECK(imurep_cp_handle(&cp, cmd, n, &act) == 0u && cp.config.odr_mhz == 104000u &&
              cp.config.acc_range_g == 16u && cp.config.max_latency_ms == 10u && cp.config_id == 2u,
          "snap to 104 Hz, keep ranges");
    c.params.odr_hz = 12;
    n = imurep_encode_command(cmd, sizeof cmd, &c);
    CHECK(imurep_cp_handle(&cp, cmd, n, &act) == 0u && cp.config.odr_mhz == 12500u, "12 -> 12.5 Hz");
    c.params.odr_hz = 65535;
    n = imurep_encode_command(cmd, sizeof cmd, &c);
    CHECK(imurep_cp_handle(&cp, cmd, n, &act) == IMUREP_ERR_UNSUPPORTED_ODR, "65535 Hz");

    cmd[0] = IMUREP_OP_IDENTIFY;
    cmd[1] = 5;
    CHECK(imurep_cp_handle(&cp, cmd, 2, &act) == 0u && act == IMUREP_ACTION_IDENTIFY && cp.identify_s == 5u,
          "IDENTIFY");
    imurep_cp_info(&cp, IMUREP_IMU_LSM6DS3TRC, 1000000u, 14, 2, &info);
    CHECK(info.state == 1u && info.config_id == cp.config_id && info.acc_lsb_g == 0.488e-3f &&
              info.max_samples_per_frame == 14u,
          "info follows the state");
    imurep_cp_stopped(&cp);
    CHECK(!cp.streaming, "stopped");
}

static imurep_sample_t mk(int k)
{
    imurep_sample_t s;
    int j;
    for (j = 0; j < 6; ++j) {
        s.v[j] = (int16_t)(k * 6 + j - 300);
    }
    return s;
}

static void test_ring_and_stream(void)
{
    imurep_ring_entry_t storage[4];
    imurep_stream_t st;
    imurep_frame_t f;
    uint8_t out[IMUREP_MAX_FRAME_BYTES];
    size_t len;
    int k;
    imurep_sample_t s;

    /* TX blocked: 10 samples into a ring of 4 -> the 6 oldest are dropped, the index keeps counting */
    imurep_stream_init(&st, storage, 4);
    imurep_stream_start(&st, 7, 247, 50, 1000000u);
    for (k = 0; k < 10; ++k) {
        s = mk(k);
        CHECK(imurep_ring_push(&st.ring, &s, (uint32_t)k * 9615u) == (k < 4), "push %d", k);
    }
    CHECK(st.ring.dropped_total == 6u && st.ring.next_index == 10u, "dropped 6");
    len = imurep_stream_next(&st, 200000u, false, out, sizeof out);
    CHECK(len == 16u && imurep_parse_frame(out, len, &f) == IMUREP_OK && f.kind == IMUREP_KIND_STATUS &&
              f.code == IMUREP_STATUS_FIFO_OVERFLOW && f.index == 0u && f.value == 6u && f.config_id == 7u,
          "FIFO_OVERFLOW status first");
    /* not committed (TX full): the same status again */
    len = imurep_stream_next(&st, 200000u, false, out, sizeof out);
    CHECK(len == 16u && out[1] == IMUREP_FRAME_STATUS, "status again until committed");
    imurep_stream_commit(&st);
    len = imurep_stream_next(&st, 200000u, false, out, sizeof out);
    CHECK(len == 12u + 4u * 12u && imurep_parse_frame(out, len, &f) == IMUREP_OK && f.index == 6u &&
              f.n == 4u && f.t_device == 6u * 9615u,
          "then the 4 kept samples (latency elapsed)");
    imurep_frame_sample(&f, 0, &s);
    CHECK(memcmp(&s, &storage[st.ring.head].s, sizeof s) == 0 && s.v[0] == mk(6).v[0], "sample 6");
    /* a push between next() and commit() drops the oldest sample that was in the built frame */
    s = mk(10);
    imurep_ring_push(&st.ring, &s, 10u * 9615u);
    imurep_stream_commit(&st);
    CHECK(st.ring.count == 1u && imurep_ring_peek(&st.ring, 0)->index == 10u, "commit pops what was sent");
    len = imurep_stream_next(&st, 10u * 9615u, false, out, sizeof out);
    CHECK(len == 16u && imurep_parse_frame(out, len, &f) == IMUREP_OK && f.index == 6u && f.value == 1u,
          "late drop announced");
    imurep_stream_commit(&st);
    CHECK(imurep_stream_next(&st, 10u * 9615u + 49999u, false, out, sizeof out) == 0u, "not due yet");
    len = imurep_stream_next(&st, 10u * 9615u + 49999u, true, out, sizeof out);
    CHECK(len == 24u, "forced flush of a partial frame");
    imurep_stream_commit(&st);
    CHECK(st.ring.count == 0u && imurep_stream_next(&st, 0, true, out, sizeof out) == 0u, "empty");

    /* skip (IMU FIFO overrun) inside the ring ends the frame: no frame spans a gap */
    imurep_stream_start(&st, 0, 247, 1000, 1000000u);
    for (k = 0; k < 2; ++k) {
        s = mk(k);
        imurep_ring_push(&st.ring, &s, (uint32_t)k);
    }
    imurep_ring_skip(&st.ring, 3);
    s = mk(5);
    imurep_ring_push(&st.ring, &s, 5u);
    len = imurep_stream_next(&st, 5u, false, out, sizeof out);
    CHECK(len == 16u && imurep_parse_frame(out, len, &f) == IMUREP_OK && f.index == 2u && f.value == 3u,
          "skip announced");
    imurep_stream_commit(&st);
    len = imurep_stream_next(&st, 5u, false, out, sizeof out);
    CHECK(len == 36u && imurep_parse_frame(out, len, &f) == IMUREP_OK && f.index == 0u && f.n == 2u,
          "run before the gap is sent at once");
    imurep_stream_commit(&st);
    CHECK(imurep_stream_next(&st, 5u, false, out, sizeof out) == 0u, "run after the gap waits");
    /* compact frames below MTU 27 */
    imurep_stream_set_mtu(&st, 23);
    len = imurep_stream_next(&st, 5u, false, out, sizeof out);
    CHECK(len == 20u && imurep_parse_frame(out, len, &f) == IMUREP_OK && f.kind == IMUREP_KIND_COMPACT &&
              f.index == 5u && f.t_device == 5u,
          "compact frame");
    /* restart: index := 0, ring emptied */
    imurep_stream_start(&st, 1, 185, 50, 1000000u);
    CHECK(st.ring.count == 0u && st.ring.next_index == 0u && st.max_per_frame == 14u &&
              st.latency_ticks == 50000u && !st.ring.overflow_pending,
          "restart");
}

/* ---- script modes -------------------------------------------------------------------------- */

static int read_samples(imurep_sample_t *s, size_t n)
{
    size_t k;
    size_t j;
    for (k = 0; k < n; ++k) {
        for (j = 0; j < 6; ++j) {
            long v;
            if (scanf("%ld", &v) != 1) {
                return 0;
            }
            s[k].v[j] = (int16_t)v;
        }
    }
    return 1;
}

static int run_frames(void)
{
    char word[32];
    uint8_t out[256];
    while (scanf("%31s", word) == 1) {
        unsigned long a, b, c, d, e;
        imurep_sample_t s[IMUREP_MAX_SAMPLES_PER_FRAME];
        size_t len = 0;
        if (strcmp(word, "imu") == 0) {
            if (scanf("%lu %lu %lu %lu", &a, &b, &c, &d) != 4 || d > IMUREP_MAX_SAMPLES_PER_FRAME ||
                !read_samples(s, d)) {
                return 2;
            }
            len = imurep_encode_imu_frame(out, sizeof out, (uint8_t)a, (uint32_t)b, (uint32_t)c, s, d);
        } else if (strcmp(word, "status") == 0) {
            if (scanf("%lu %lu %lu %lu %lu", &a, &b, &c, &d, &e) != 5) {
                return 2;
            }
            len = imurep_encode_status_frame(out, sizeof out, (uint8_t)a, (uint8_t)b, (uint32_t)c,
                                             (uint32_t)d, (uint32_t)e);
        } else if (strcmp(word, "compact") == 0) {
            if (scanf("%lu %lu", &a, &b) != 2 || !read_samples(s, 1)) {
                return 2;
            }
            len = imurep_encode_compact_frame(out, sizeof out, (uint32_t)a, (uint32_t)b, s);
        } else if (strcmp(word, "cmd") == 0) {
            imurep_command_t cmd;
            if (scanf("%lu %lu %lu %lu %lu", &a, &b, &c, &d, &e) != 5) {
                return 2;
            }
            memset(&cmd, 0, sizeof cmd);
            cmd.opcode = (uint8_t)a;
            cmd.params.odr_hz = (uint16_t)b;
            cmd.params.acc_range_g = (uint8_t)c;
            cmd.params.gyr_range_dps = (uint16_t)d;
            cmd.params.max_latency_ms = (uint16_t)e;
            cmd.identify_s = (uint8_t)b;
            len = imurep_encode_command(out, sizeof out, &cmd);
        } else {
            return 2;
        }
        print_hex(out, len);
    }
    return 0;
}

static void drain(imurep_stream_t *st, uint32_t now, bool force)
{
    uint8_t out[IMUREP_MAX_FRAME_BYTES];
    size_t len;
    while ((len = imurep_stream_next(st, now, force, out, sizeof out)) > 0u) {
        print_hex(out, len);
        imurep_stream_commit(st);
    }
}

static int run_stream(int argc, char **argv)
{
    static imurep_ring_entry_t storage[4096];
    imurep_stream_t st;
    char word[32];
    bool tx = true;
    unsigned long mtu, lat, clock_hz, cap;
    if (argc < 6) {
        return 2;
    }
    mtu = strtoul(argv[2], NULL, 10);
    lat = strtoul(argv[3], NULL, 10);
    clock_hz = strtoul(argv[4], NULL, 10);
    cap = strtoul(argv[5], NULL, 10);
    if (cap < 1 || cap > 4096) {
        return 2;
    }
    imurep_stream_init(&st, storage, (uint16_t)cap);
    imurep_stream_start(&st, 0, (uint16_t)mtu, (uint16_t)lat, (uint32_t)clock_hz);
    while (scanf("%31s", word) == 1) {
        unsigned long t;
        if (strcmp(word, "s") == 0) {
            imurep_sample_t s;
            if (scanf("%lu", &t) != 1 || !read_samples(&s, 1)) {
                return 2;
            }
            imurep_ring_push(&st.ring, &s, (uint32_t)t);
            if (tx) {
                drain(&st, (uint32_t)t, false);
            }
        } else if (strcmp(word, "skip") == 0) {
            if (scanf("%lu", &t) != 1) {
                return 2;
            }
            imurep_ring_skip(&st.ring, (uint32_t)t);
        } else if (strcmp(word, "txoff") == 0) {
            tx = false;
        } else if (strcmp(word, "txon") == 0) {
            tx = true;
        } else if (strcmp(word, "flush") == 0) {
            if (scanf("%lu", &t) != 1) {
                return 2;
            }
            drain(&st, (uint32_t)t, true);
        } else {
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "frames") == 0) {
        return run_frames();
    }
    if (argc >= 2 && strcmp(argv[1], "stream") == 0) {
        return run_stream(argc, argv);
    }
    test_frame_vectors();
    test_info_vectors();
    test_command_vectors();
    test_stream_vectors();
    test_uuids();
    test_sizes_and_flush_policy();
    test_control_point();
    test_ring_and_stream();
    printf("%d checks, %d failures (%u frame, %u info, %u command, %u stream vectors)\n", g_checks, g_failures,
           TV_N_FRAMES, TV_N_INFO, TV_N_COMMANDS, TV_N_STREAMS);
    return g_failures == 0 ? 0 : 1;
}
