/*
 * imurep sensor protocol v1.0 — portable C99 reference codec and firmware helpers.
 * See imurep_proto.h and firmware_protocol/PROTOCOL.md.
 */
#include "imurep_proto.h"

#include <string.h>

/* ---- little-endian helpers ---------------------------------------------------------------- */

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)(v >> 24);
}

static void put_i16(uint8_t *p, int16_t v)
{
    /* two's complement bit pattern without implementation-defined conversions */
    uint16_t u = (v < 0) ? (uint16_t)(65536L + (long)v) : (uint16_t)v;
    put_u16(p, u);
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] | (uint16_t)((uint16_t)p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int16_t get_i16(const uint8_t *p)
{
    uint16_t u = get_u16(p);
    return (u >= 0x8000u) ? (int16_t)((long)u - 65536L) : (int16_t)u;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u); /* IEEE-754 binary32 assumed */
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void put_sample(uint8_t *p, const imurep_sample_t *s)
{
    size_t k;
    for (k = 0; k < 6u; ++k) {
        put_i16(p + 2u * k, s->v[k]);
    }
}

/* ---- UUIDs (little-endian) ---------------------------------------------------------------- */

#define IMUREP_UUID_LE(b2, b3)                                                                  \
    {0x30, 0x6e, 0xd6, 0x6f, 0x7e, 0x87, 0x2a, 0x91, 0x00, 0x49, 0x90, 0xbb, b3, b2, 0x75, 0xf5}

const uint8_t IMUREP_UUID_SERVICE[16] = IMUREP_UUID_LE(0x00, 0x01);
const uint8_t IMUREP_UUID_DATA[16] = IMUREP_UUID_LE(0x00, 0x02);
const uint8_t IMUREP_UUID_CONTROL_POINT[16] = IMUREP_UUID_LE(0x00, 0x03);
const uint8_t IMUREP_UUID_INFO[16] = IMUREP_UUID_LE(0x00, 0x04);

/* ---- 2. frames ---------------------------------------------------------------------------- */

uint8_t imurep_samples_per_frame(uint16_t att_mtu)
{
    uint32_t payload;
    if (att_mtu < 3u + IMUREP_HEADER_BYTES) {
        return 0;
    }
    payload = (uint32_t)att_mtu - 3u;
    if (payload > IMUREP_MAX_FRAME_BYTES) {
        payload = IMUREP_MAX_FRAME_BYTES;
    }
    return (uint8_t)((payload - IMUREP_HEADER_BYTES) / IMUREP_SAMPLE_BYTES);
}

static void put_imu_header(uint8_t *out, uint8_t n, uint8_t config_id, uint32_t first_index, uint32_t t_first)
{
    out[0] = (uint8_t)IMUREP_PROTO_MAJOR;
    out[1] = (uint8_t)IMUREP_FRAME_IMU6;
    out[2] = n;
    out[3] = config_id;
    put_u32(out + 4, first_index);
    put_u32(out + 8, t_first);
}

size_t imurep_encode_imu_frame(uint8_t *out, size_t cap, uint8_t config_id, uint32_t first_index,
                               uint32_t t_first, const imurep_sample_t *samples, size_t n)
{
    size_t k;
    size_t len = IMUREP_HEADER_BYTES + IMUREP_SAMPLE_BYTES * n;
    if (out == NULL || samples == NULL || n < 1u || n > IMUREP_MAX_SAMPLES_PER_FRAME || cap < len) {
        return 0;
    }
    put_imu_header(out, (uint8_t)n, config_id, first_index, t_first);
    for (k = 0; k < n; ++k) {
        put_sample(out + IMUREP_HEADER_BYTES + IMUREP_SAMPLE_BYTES * k, &samples[k]);
    }
    return len;
}

size_t imurep_encode_status_frame(uint8_t *out, size_t cap, uint8_t code, uint8_t config_id,
                                  uint32_t index, uint32_t t_device, uint32_t value)
{
    if (out == NULL || cap < IMUREP_STATUS_BYTES) {
        return 0;
    }
    out[0] = (uint8_t)IMUREP_PROTO_MAJOR;
    out[1] = (uint8_t)IMUREP_FRAME_STATUS;
    out[2] = code;
    out[3] = config_id;
    put_u32(out + 4, index);
    put_u32(out + 8, t_device);
    put_u32(out + 12, value);
    return IMUREP_STATUS_BYTES;
}

size_t imurep_encode_compact_frame(uint8_t *out, size_t cap, uint32_t index, uint32_t t_device,
                                   const imurep_sample_t *sample)
{
    if (out == NULL || sample == NULL || cap < IMUREP_COMPACT_BYTES) {
        return 0;
    }
    out[0] = (uint8_t)IMUREP_PROTO_MAJOR;
    out[1] = (uint8_t)IMUREP_FRAME_IMU6_COMPACT;
    put_u16(out + 2, (uint16_t)(index & 0xFFFFu));
    put_u32(out + 4, t_device);
    put_sample(out + IMUREP_COMPACT_HEADER_BYTES, sample);
    return IMUREP_COMPACT_BYTES;
}

imurep_result_t imurep_parse_frame(const uint8_t *data, size_t len, imurep_frame_t *out)
{
    imurep_frame_t f;
    memset(&f, 0, sizeof f);
    if (data == NULL || len < 2u) {
        return IMUREP_E_TOO_SHORT;
    }
    f.proto_major = data[0];
    f.frame_type = data[1];
    f.length = len;
    if (f.proto_major != IMUREP_PROTO_MAJOR) {
        return IMUREP_E_VERSION;
    }
    switch (f.frame_type) {
    case IMUREP_FRAME_IMU6:
        if (len < IMUREP_HEADER_BYTES) {
            return IMUREP_E_TRUNCATED;
        }
        f.kind = IMUREP_KIND_IMU;
        f.n = data[2];
        f.config_id = data[3];
        f.index = get_u32(data + 4);
        f.t_device = get_u32(data + 8);
        if (f.n < 1u || f.n > IMUREP_MAX_SAMPLES_PER_FRAME) {
            return IMUREP_E_COUNT;
        }
        if (len != IMUREP_HEADER_BYTES + IMUREP_SAMPLE_BYTES * (size_t)f.n) {
            return IMUREP_E_LENGTH;
        }
        f.samples = data + IMUREP_HEADER_BYTES;
        break;
    case IMUREP_FRAME_STATUS:
        if (len < IMUREP_STATUS_BYTES) {
            return IMUREP_E_TRUNCATED; /* longer is allowed (future payloads) */
        }
        f.kind = IMUREP_KIND_STATUS;
        f.code = data[2];
        f.config_id = data[3];
        f.index = get_u32(data + 4);
        f.t_device = get_u32(data + 8);
        f.value = get_u32(data + 12);
        break;
    case IMUREP_FRAME_IMU6_COMPACT:
        if (len != IMUREP_COMPACT_BYTES) {
            return IMUREP_E_LENGTH;
        }
        f.kind = IMUREP_KIND_COMPACT;
        f.n = 1;
        f.index = get_u16(data + 2);
        f.t_device = get_u32(data + 4);
        f.samples = data + IMUREP_COMPACT_HEADER_BYTES;
        break;
    case 0:
        return IMUREP_E_TYPE;
    default:
        f.kind = IMUREP_KIND_UNKNOWN;
        break;
    }
    if (out != NULL) {
        *out = f;
    }
    return IMUREP_OK;
}

void imurep_frame_sample(const imurep_frame_t *frame, size_t k, imurep_sample_t *out)
{
    size_t j;
    const uint8_t *p;
    if (frame == NULL || out == NULL || frame->samples == NULL || k >= frame->n) {
        return;
    }
    p = frame->samples + IMUREP_SAMPLE_BYTES * k;
    for (j = 0; j < 6u; ++j) {
        out->v[j] = get_i16(p + 2u * j);
    }
}

/* ---- 3. info ------------------------------------------------------------------------------ */

size_t imurep_encode_info(uint8_t *out, size_t cap, const imurep_info_t *info)
{
    if (out == NULL || info == NULL || cap < IMUREP_INFO_BYTES) {
        return 0;
    }
    out[0] = info->proto_major;
    out[1] = info->proto_minor;
    put_u16(out + 2, info->features);
    out[4] = info->imu_model;
    out[5] = info->config_id;
    out[6] = info->state;
    out[7] = info->max_samples_per_frame;
    put_u32(out + 8, info->odr_mhz);
    put_u16(out + 12, info->acc_range_g);
    put_u16(out + 14, info->gyr_range_dps);
    put_u32(out + 16, float_bits(info->acc_lsb_g));
    put_u32(out + 20, float_bits(info->gyr_lsb_dps));
    put_u32(out + 24, info->clock_hz);
    put_u16(out + 28, info->max_latency_ms);
    out[30] = info->mount;
    out[31] = info->reserved;
    return IMUREP_INFO_BYTES;
}

/* positive, finite binary32 (exponent not all ones, sign clear, not zero) */
static bool positive_finite(uint32_t bits)
{
    return (bits & 0x80000000u) == 0u && (bits & 0x7F800000u) != 0x7F800000u && bits != 0u;
}

imurep_result_t imurep_decode_info(const uint8_t *data, size_t len, imurep_info_t *out)
{
    imurep_info_t i;
    uint32_t acc_bits;
    uint32_t gyr_bits;
    if (data == NULL || len < IMUREP_INFO_BYTES) {
        return IMUREP_E_TRUNCATED;
    }
    i.proto_major = data[0];
    i.proto_minor = data[1];
    i.features = get_u16(data + 2);
    i.imu_model = data[4];
    i.config_id = data[5];
    i.state = data[6];
    i.max_samples_per_frame = data[7];
    i.odr_mhz = get_u32(data + 8);
    i.acc_range_g = get_u16(data + 12);
    i.gyr_range_dps = get_u16(data + 14);
    acc_bits = get_u32(data + 16);
    gyr_bits = get_u32(data + 20);
    i.acc_lsb_g = bits_float(acc_bits);
    i.gyr_lsb_dps = bits_float(gyr_bits);
    i.clock_hz = get_u32(data + 24);
    i.max_latency_ms = get_u16(data + 28);
    i.mount = data[30];
    i.reserved = data[31];
    if (i.proto_major != IMUREP_PROTO_MAJOR) {
        return IMUREP_E_VERSION;
    }
    if (i.odr_mhz == 0u || i.clock_hz == 0u || !positive_finite(acc_bits) || !positive_finite(gyr_bits)) {
        return IMUREP_E_VALUE;
    }
    if (out != NULL) {
        *out = i;
    }
    return IMUREP_OK;
}

size_t imurep_encode_mfr_data(uint8_t *out, size_t cap, uint8_t battery_pct)
{
    if (out == NULL || cap < IMUREP_MFR_DATA_BYTES) {
        return 0;
    }
    put_u16(out, (uint16_t)IMUREP_MANUFACTURER_ID);
    out[2] = (uint8_t)IMUREP_PROTO_MAJOR;
    out[3] = battery_pct;
    return IMUREP_MFR_DATA_BYTES;
}

/* ---- 4. control point --------------------------------------------------------------------- */

size_t imurep_encode_command(uint8_t *out, size_t cap, const imurep_command_t *cmd)
{
    if (out == NULL || cmd == NULL || cap < 1u) {
        return 0;
    }
    out[0] = cmd->opcode;
    if (cmd->opcode == IMUREP_OP_START || cmd->opcode == IMUREP_OP_SET_CONFIG) {
        if (cap < 1u + IMUREP_START_PARAM_BYTES) {
            return 0;
        }
        put_u16(out + 1, cmd->params.odr_hz);
        out[3] = cmd->params.acc_range_g;
        put_u16(out + 4, cmd->params.gyr_range_dps);
        put_u16(out + 6, cmd->params.max_latency_ms);
        return 1u + IMUREP_START_PARAM_BYTES;
    }
    if (cmd->opcode == IMUREP_OP_IDENTIFY) {
        if (cap < 2u) {
            return 0;
        }
        out[1] = cmd->identify_s;
        return 2;
    }
    return 1;
}

uint8_t imurep_decode_command(const uint8_t *data, size_t len, imurep_command_t *out)
{
    imurep_command_t c;
    memset(&c, 0, sizeof c);
    if (data == NULL || len < 1u) {
        return IMUREP_ERR_INVALID_PARAM;
    }
    c.opcode = data[0];
    switch (c.opcode) {
    case IMUREP_OP_START:
    case IMUREP_OP_SET_CONFIG:
        if (len != 1u + IMUREP_START_PARAM_BYTES) {
            return IMUREP_ERR_INVALID_PARAM;
        }
        c.params.odr_hz = get_u16(data + 1);
        c.params.acc_range_g = data[3];
        c.params.gyr_range_dps = get_u16(data + 4);
        c.params.max_latency_ms = get_u16(data + 6);
        break;
    case IMUREP_OP_STOP:
        if (len != 1u) {
            return IMUREP_ERR_INVALID_PARAM;
        }
        break;
    case IMUREP_OP_IDENTIFY:
        if (len != 2u) {
            return IMUREP_ERR_INVALID_PARAM;
        }
        c.identify_s = data[1];
        break;
    default:
        return IMUREP_ERR_INVALID_OPCODE;
    }
    if (out != NULL) {
        *out = c;
    }
    return IMUREP_ATT_OK;
}

const uint32_t IMUREP_ODRS_MHZ[IMUREP_N_ODRS] = {12500u,  26000u,  52000u,  104000u,
                                                 208000u, 416000u, 833000u, 1666000u};

/* LSM6DS3TR-C datasheet sensitivities (table 3), the same float32 values as the Python encoder. */
float imurep_acc_lsb_g(uint16_t range_g)
{
    switch (range_g) {
    case 2: return 0.061e-3f;
    case 4: return 0.122e-3f;
    case 8: return 0.244e-3f;
    case 16: return 0.488e-3f;
    default: return 0.0f;
    }
}

float imurep_gyr_lsb_dps(uint16_t range_dps)
{
    switch (range_dps) {
    case 125: return 4.375e-3f;
    case 245: return 8.75e-3f;
    case 500: return 17.5e-3f;
    case 1000: return 35e-3f;
    case 2000: return 70e-3f;
    default: return 0.0f;
    }
}

uint8_t imurep_resolve_config(const imurep_start_params_t *req, const imurep_config_t *cur,
                              imurep_config_t *out)
{
    imurep_config_t c;
    if (req == NULL || cur == NULL || out == NULL) {
        return IMUREP_ERR_INVALID_PARAM;
    }
    c = *cur;
    if (req->odr_hz != 0u) {
        uint32_t want = (uint32_t)req->odr_hz * 1000u;
        uint32_t best = IMUREP_ODRS_MHZ[0];
        uint32_t best_diff = 0xFFFFFFFFu;
        size_t k;
        for (k = 0; k < IMUREP_N_ODRS; ++k) {
            uint32_t o = IMUREP_ODRS_MHZ[k];
            uint32_t d = want > o ? want - o : o - want;
            if (d < best_diff) {
                best_diff = d;
                best = o;
            }
        }
        if (best_diff * 10u > best) { /* more than 10 % away */
            return IMUREP_ERR_UNSUPPORTED_ODR;
        }
        c.odr_mhz = best;
    }
    if (req->acc_range_g != 0u) {
        c.acc_range_g = req->acc_range_g;
    }
    if (req->gyr_range_dps != 0u) {
        c.gyr_range_dps = req->gyr_range_dps;
    }
    if (imurep_acc_lsb_g(c.acc_range_g) == 0.0f || imurep_gyr_lsb_dps(c.gyr_range_dps) == 0.0f) {
        return IMUREP_ERR_UNSUPPORTED_RANGE;
    }
    if (req->max_latency_ms != 0u) {
        c.max_latency_ms = req->max_latency_ms;
    }
    if (c.max_latency_ms == 0u) {
        return IMUREP_ERR_INVALID_PARAM;
    }
    *out = c;
    return IMUREP_ATT_OK;
}

void imurep_cp_init(imurep_cp_t *cp, const imurep_config_t *initial)
{
    memset(cp, 0, sizeof *cp);
    cp->config = *initial;
}

static bool config_equal(const imurep_config_t *a, const imurep_config_t *b)
{
    return a->odr_mhz == b->odr_mhz && a->acc_range_g == b->acc_range_g &&
           a->gyr_range_dps == b->gyr_range_dps && a->max_latency_ms == b->max_latency_ms;
}

static void cp_apply(imurep_cp_t *cp, const imurep_config_t *c)
{
    if (!config_equal(&cp->config, c)) {
        cp->config = *c;
        cp->config_id = (uint8_t)(cp->config_id + 1u);
    }
}

uint8_t imurep_cp_handle(imurep_cp_t *cp, const uint8_t *data, size_t len, imurep_action_t *action)
{
    imurep_command_t cmd;
    imurep_config_t c;
    uint8_t err;
    imurep_action_t dummy;
    if (action == NULL) {
        action = &dummy;
    }
    *action = IMUREP_ACTION_NONE;
    err = imurep_decode_command(data, len, &cmd);
    if (err != IMUREP_ATT_OK) {
        return err;
    }
    switch (cmd.opcode) {
    case IMUREP_OP_START:
        err = imurep_resolve_config(&cmd.params, &cp->config, &c);
        if (err != IMUREP_ATT_OK) {
            return err;
        }
        cp_apply(cp, &c);
        cp->streaming = true;
        *action = IMUREP_ACTION_START;
        break;
    case IMUREP_OP_SET_CONFIG:
        if (cp->streaming) {
            return IMUREP_ERR_INVALID_STATE;
        }
        err = imurep_resolve_config(&cmd.params, &cp->config, &c);
        if (err != IMUREP_ATT_OK) {
            return err;
        }
        cp_apply(cp, &c);
        *action = IMUREP_ACTION_CONFIGURE;
        break;
    case IMUREP_OP_STOP:
        cp->streaming = false;
        *action = IMUREP_ACTION_STOP;
        break;
    default: /* IMUREP_OP_IDENTIFY: decode_command rejects everything else */
        cp->identify_s = cmd.identify_s;
        *action = IMUREP_ACTION_IDENTIFY;
        break;
    }
    return IMUREP_ATT_OK;
}

void imurep_cp_stopped(imurep_cp_t *cp)
{
    cp->streaming = false;
}

void imurep_cp_info(const imurep_cp_t *cp, uint8_t imu_model, uint32_t clock_hz, uint8_t max_per_frame,
                    uint8_t mount, imurep_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->proto_major = (uint8_t)IMUREP_PROTO_MAJOR;
    out->proto_minor = (uint8_t)IMUREP_PROTO_MINOR;
    out->features = (uint16_t)(IMUREP_FEATURE_STATUS | IMUREP_FEATURE_COMPACT);
    out->imu_model = imu_model;
    out->config_id = cp->config_id;
    out->state = cp->streaming ? 1u : 0u;
    out->max_samples_per_frame = max_per_frame;
    out->odr_mhz = cp->config.odr_mhz;
    out->acc_range_g = cp->config.acc_range_g;
    out->gyr_range_dps = cp->config.gyr_range_dps;
    out->acc_lsb_g = imurep_acc_lsb_g(cp->config.acc_range_g);
    out->gyr_lsb_dps = imurep_gyr_lsb_dps(cp->config.gyr_range_dps);
    out->clock_hz = clock_hz;
    out->max_latency_ms = cp->config.max_latency_ms;
    out->mount = mount;
}

/* ---- 5. ring buffer ----------------------------------------------------------------------- */

void imurep_ring_init(imurep_ring_t *r, imurep_ring_entry_t *storage, uint16_t capacity)
{
    memset(r, 0, sizeof *r);
    r->buf = storage;
    r->capacity = capacity;
}

void imurep_ring_reset(imurep_ring_t *r, uint32_t first_index)
{
    r->head = 0;
    r->count = 0;
    r->next_index = first_index;
    r->overflow_pending = false;
    r->overflow_first = 0;
    r->overflow_count = 0;
}

static void ring_account(imurep_ring_t *r, uint32_t first, uint32_t n)
{
    if (n == 0u) {
        return;
    }
    r->dropped_total += n;
    if (!r->overflow_pending) {
        r->overflow_pending = true;
        r->overflow_first = first;
        r->overflow_count = n;
    } else {
        /* extend the record to the hull of both ranges (mod 2^32).  A drop of the oldest buffered
         * sample can precede an earlier skip() (which accounts at the newest index). */
        uint32_t d = (uint32_t)(first - r->overflow_first);
        uint32_t end_rel;
        if (d >= 0x80000000u) { /* the new range starts before the record */
            uint32_t back = (uint32_t)(0u - d);
            r->overflow_first = first;
            r->overflow_count += back;
            end_rel = n;
        } else {
            end_rel = d + n;
        }
        if (end_rel > r->overflow_count) {
            r->overflow_count = end_rel;
        }
    }
}

const imurep_ring_entry_t *imurep_ring_peek(const imurep_ring_t *r, uint16_t k)
{
    if (k >= r->count) {
        return NULL;
    }
    return &r->buf[(uint16_t)((r->head + k) % r->capacity)];
}

void imurep_ring_pop(imurep_ring_t *r, uint16_t n)
{
    if (n > r->count) {
        n = r->count;
    }
    r->head = (uint16_t)((r->head + n) % r->capacity);
    r->count = (uint16_t)(r->count - n);
}

bool imurep_ring_push(imurep_ring_t *r, const imurep_sample_t *s, uint32_t t)
{
    bool kept_all = true;
    imurep_ring_entry_t *e;
    if (r->capacity == 0u) {
        ring_account(r, r->next_index, 1u);
        r->next_index++;
        return false;
    }
    if (r->count == r->capacity) {
        ring_account(r, r->buf[r->head].index, 1u);
        imurep_ring_pop(r, 1u);
        kept_all = false;
    }
    e = &r->buf[(uint16_t)((r->head + r->count) % r->capacity)];
    e->s = *s;
    e->t = t;
    e->index = r->next_index;
    r->next_index++;
    r->count++;
    return kept_all;
}

void imurep_ring_skip(imurep_ring_t *r, uint32_t n)
{
    ring_account(r, r->next_index, n);
    r->next_index += n;
}

/* ---- 6. stream ---------------------------------------------------------------------------- */

bool imurep_flush_due(uint16_t pending, uint8_t max_per_frame, uint32_t t_first_pending, uint32_t now,
                      uint32_t latency_ticks)
{
    uint16_t full = max_per_frame == 0u ? 1u : max_per_frame;
    if (pending == 0u) {
        return false;
    }
    if (pending >= full) {
        return true;
    }
    return (uint32_t)(now - t_first_pending) >= latency_ticks;
}

void imurep_stream_init(imurep_stream_t *st, imurep_ring_entry_t *storage, uint16_t capacity)
{
    memset(st, 0, sizeof *st);
    imurep_ring_init(&st->ring, storage, capacity);
    st->max_per_frame = IMUREP_MAX_SAMPLES_PER_FRAME;
}

void imurep_stream_set_mtu(imurep_stream_t *st, uint16_t att_mtu)
{
    st->max_per_frame = imurep_samples_per_frame(att_mtu);
}

void imurep_stream_start(imurep_stream_t *st, uint8_t config_id, uint16_t att_mtu, uint16_t max_latency_ms,
                         uint32_t clock_hz)
{
    imurep_ring_reset(&st->ring, 0u);
    st->config_id = config_id;
    imurep_stream_set_mtu(st, att_mtu);
    st->latency_ticks = (uint32_t)(((uint64_t)max_latency_ms * clock_hz) / 1000u);
    st->built_kind = 0;
    st->built_n = 0;
    st->built_value = 0;
}

size_t imurep_stream_next(imurep_stream_t *st, uint32_t now, bool force, uint8_t *out, size_t cap)
{
    imurep_ring_t *r = &st->ring;
    const imurep_ring_entry_t *first;
    uint16_t run;
    uint16_t limit;
    uint16_t k;
    size_t len;
    st->built_kind = 0;
    st->built_n = 0;
    if (r->overflow_pending) {
        len = imurep_encode_status_frame(out, cap, (uint8_t)IMUREP_STATUS_FIFO_OVERFLOW, st->config_id,
                                         r->overflow_first, now, r->overflow_count);
        if (len != 0u) {
            st->built_kind = (uint8_t)IMUREP_FRAME_STATUS;
            st->built_index = r->overflow_first;
            st->built_value = r->overflow_count;
        }
        return len;
    }
    first = imurep_ring_peek(r, 0);
    if (first == NULL) {
        return 0;
    }
    limit = st->max_per_frame == 0u ? 1u : st->max_per_frame;
    /* the longest run of consecutive indices (a skip() inside the ring ends a frame) */
    run = 1;
    while (run < limit && run < r->count &&
           imurep_ring_peek(r, run)->index == (uint32_t)(first->index + run)) {
        ++run;
    }
    /* due: forced, a gap ends the run, the ring is full (waiting cannot grow the frame), or the
     * flush policy (frame full / latency elapsed) */
    if (!force && !(run < r->count && run < limit) && r->count < r->capacity &&
        !imurep_flush_due(run, st->max_per_frame, first->t, now, st->latency_ticks)) {
        return 0;
    }
    if (st->max_per_frame == 0u) {
        len = imurep_encode_compact_frame(out, cap, first->index, first->t, &first->s);
        if (len != 0u) {
            st->built_kind = (uint8_t)IMUREP_FRAME_IMU6_COMPACT;
        }
    } else {
        len = IMUREP_HEADER_BYTES + IMUREP_SAMPLE_BYTES * (size_t)run;
        if (out == NULL || cap < len) {
            return 0;
        }
        put_imu_header(out, (uint8_t)run, st->config_id, first->index, first->t);
        for (k = 0; k < run; ++k) {
            put_sample(out + IMUREP_HEADER_BYTES + IMUREP_SAMPLE_BYTES * (size_t)k, &imurep_ring_peek(r, k)->s);
        }
        st->built_kind = (uint8_t)IMUREP_FRAME_IMU6;
    }
    if (len != 0u) {
        st->built_index = first->index;
        st->built_n = st->max_per_frame == 0u ? 1u : run;
    }
    return len;
}

void imurep_stream_commit(imurep_stream_t *st)
{
    imurep_ring_t *r = &st->ring;
    if (st->built_kind == IMUREP_FRAME_STATUS) {
        if (r->overflow_pending && r->overflow_first == st->built_index) {
            if (r->overflow_count <= st->built_value) {
                r->overflow_pending = false;
                r->overflow_count = 0;
            } else { /* more was dropped after the frame was built: announce the rest next */
                r->overflow_first += st->built_value;
                r->overflow_count -= st->built_value;
            }
        }
    } else if (st->built_kind != 0u) {
        /* pop what the frame carried (some of it may have been dropped meanwhile) */
        while (r->count > 0u && (uint32_t)(imurep_ring_peek(r, 0)->index - st->built_index) < st->built_n) {
            imurep_ring_pop(r, 1u);
        }
    }
    st->built_kind = 0;
    st->built_n = 0;
    st->built_value = 0;
}
