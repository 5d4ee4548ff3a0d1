/*
 * imurep sensor protocol v1.0 — portable C99 reference codec and firmware helpers.
 *
 * Normative description: firmware_protocol/PROTOCOL.md.  Conformance vectors:
 * firmware_protocol/vectors/ (JSON; checked by test_proto.c through test_vectors.h).
 *
 * Freestanding-friendly: only <stdint.h>, <stddef.h>, <stdbool.h> and <string.h> (memcpy/memset),
 * no malloc, no I/O.  Every multi-byte field is written and read byte by byte, little-endian,
 * so the code is independent of the host's endianness, alignment and struct padding.  The only
 * platform assumption is IEEE-754 binary32 for `float` (the info struct's scale factors).
 *
 * Contents
 *   1. constants (frame types, status codes, opcodes, ATT application errors, sizes)
 *   2. frame codec: IMU6_I16, STATUS, IMU6_I16_COMPACT, parse_frame
 *   3. info struct (32 bytes) and advertising manufacturer data
 *   4. control point: command codec, configuration validation (ODR snapping, ranges), the
 *      START/STOP/SET_CONFIG/IDENTIFY state machine returning ATT application error codes
 *   5. sample ring buffer with overflow accounting (the sample index keeps counting)
 *   6. stream packetizer: flush policy (frame full OR max_latency elapsed), MTU-sized frames,
 *      compact frames below MTU 27, FIFO_OVERFLOW status before the next IMU frame,
 *      peek/commit so a full TX queue never loses a frame.
 */
#ifndef IMUREP_PROTO_H
#define IMUREP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1. constants ------------------------------------------------------------------------- */

#define IMUREP_PROTO_MAJOR 1u
#define IMUREP_PROTO_MINOR 0u

#define IMUREP_FRAME_IMU6 0x01u
#define IMUREP_FRAME_STATUS 0x02u
#define IMUREP_FRAME_IMU6_COMPACT 0x03u

#define IMUREP_STATUS_FIFO_OVERFLOW 0x01u
#define IMUREP_STATUS_CONFIG_CHANGED 0x02u
#define IMUREP_STATUS_LOW_BATTERY 0x03u
#define IMUREP_STATUS_STREAM_STOPPED 0x04u

#define IMUREP_OP_START 0x01u
#define IMUREP_OP_STOP 0x02u
#define IMUREP_OP_SET_CONFIG 0x03u
#define IMUREP_OP_IDENTIFY 0x04u

/* ATT application error codes returned by the control point (0 = success). */
#define IMUREP_ATT_OK 0x00u
#define IMUREP_ERR_INVALID_OPCODE 0x80u
#define IMUREP_ERR_INVALID_PARAM 0x81u
#define IMUREP_ERR_UNSUPPORTED_ODR 0x82u
#define IMUREP_ERR_UNSUPPORTED_RANGE 0x83u
#define IMUREP_ERR_INVALID_STATE 0x84u
#define IMUREP_ERR_BUSY 0x86u

#define IMUREP_FEATURE_STATUS 0x0001u
#define IMUREP_FEATURE_COMPACT 0x0002u

#define IMUREP_IMU_LSM6DS3TRC 1u
#define IMUREP_IMU_BMI270 2u
#define IMUREP_IMU_MPU6886 3u
#define IMUREP_IMU_MPU6050 4u
#define IMUREP_IMU_BMI160 5u
#define IMUREP_IMU_SIMULATOR 0xFEu

#define IMUREP_HEADER_BYTES 12u
#define IMUREP_SAMPLE_BYTES 12u
#define IMUREP_MAX_FRAME_BYTES 244u
#define IMUREP_MAX_SAMPLES_PER_FRAME 19u /* (244 - 12) / 12 */
#define IMUREP_STATUS_BYTES 16u
#define IMUREP_COMPACT_HEADER_BYTES 8u
#define IMUREP_COMPACT_BYTES 20u
#define IMUREP_INFO_BYTES 32u
#define IMUREP_START_PARAM_BYTES 7u
#define IMUREP_MFR_DATA_BYTES 4u /* company id u16 + proto_major + battery (AD type 0xFF payload) */
#define IMUREP_MANUFACTURER_ID 0xFFFFu

/* 128-bit UUIDs, little-endian byte order (as in the advertising data and most BLE stacks).
 * String form: f575xxxx-bb90-4900-912a-877e6fd66e30. */
extern const uint8_t IMUREP_UUID_SERVICE[16];      /* f5750001-... */
extern const uint8_t IMUREP_UUID_DATA[16];         /* f5750002-... notify */
extern const uint8_t IMUREP_UUID_CONTROL_POINT[16]; /* f5750003-... write, notify */
extern const uint8_t IMUREP_UUID_INFO[16];         /* f5750004-... read */

/* Result codes of the parsers (negative = rejected).  Malformed input is never undefined
 * behaviour: any byte string of any length yields one of these. */
typedef enum {
    IMUREP_OK = 0,
    IMUREP_E_TOO_SHORT = -1,  /* fewer than 2 bytes: no major/type */
    IMUREP_E_VERSION = -2,    /* proto_major != IMUREP_PROTO_MAJOR */
    IMUREP_E_TYPE = -3,       /* frame type 0 (invalid) */
    IMUREP_E_TRUNCATED = -4,  /* shorter than the fixed header / struct */
    IMUREP_E_COUNT = -5,      /* IMU frame n outside 1..19 */
    IMUREP_E_LENGTH = -6,     /* length inconsistent with the frame type / n */
    IMUREP_E_VALUE = -7,      /* info: zero or non-finite rate, clock or scale factor */
    IMUREP_E_ARG = -8         /* bad argument to an encoder (n out of range, buffer too small) */
} imurep_result_t;

/* One 6-axis sample in raw counts: ax, ay, az, gx, gy, gz. */
typedef struct {
    int16_t v[6];
} imurep_sample_t;

/* ---- 2. frames ---------------------------------------------------------------------------- */

/* Samples per IMU6_I16 frame at a negotiated ATT MTU; 0 means "use compact frames" (MTU < 27). */
uint8_t imurep_samples_per_frame(uint16_t att_mtu);

/* Encoders return the number of bytes written, 0 on a bad argument / too small buffer. */
size_t imurep_encode_imu_frame(uint8_t *out, size_t cap, uint8_t config_id, uint32_t first_index,
                               uint32_t t_first, const imurep_sample_t *samples, size_t n);
size_t imurep_encode_status_frame(uint8_t *out, size_t cap, uint8_t code, uint8_t config_id,
                                  uint32_t index, uint32_t t_device, uint32_t value);
size_t imurep_encode_compact_frame(uint8_t *out, size_t cap, uint32_t index, uint32_t t_device,
                                   const imurep_sample_t *sample);

typedef enum {
    IMUREP_KIND_IMU = 1,
    IMUREP_KIND_STATUS = 2,
    IMUREP_KIND_COMPACT = 3,
    IMUREP_KIND_UNKNOWN = 4 /* a frame type this version does not know: ignore it */
} imurep_frame_kind_t;

/* A parsed data frame.  `samples` points into the caller's buffer (no copy); read sample k
 * with imurep_frame_sample(). */
typedef struct {
    imurep_frame_kind_t kind;
    uint8_t proto_major;
    uint8_t frame_type;
    uint8_t n;          /* IMU: 1..19; compact: 1; status/unknown: 0 */
    uint8_t config_id;  /* IMU and status frames */
    uint8_t code;       /* status frames */
    uint32_t index;     /* IMU: first_index; status: index; compact: index_lo (16 bits) */
    uint32_t t_device;
    uint32_t value;     /* status frames */
    size_t length;
    const uint8_t *samples;
} imurep_frame_t;

imurep_result_t imurep_parse_frame(const uint8_t *data, size_t len, imurep_frame_t *out);
void imurep_frame_sample(const imurep_frame_t *frame, size_t k, imurep_sample_t *out);

/* ---- 3. info struct and advertising ------------------------------------------------------- */

typedef struct {
    uint8_t proto_major;
    uint8_t proto_minor;
    uint16_t features;
    uint8_t imu_model;
    uint8_t config_id;
    uint8_t state; /* 0 idle, 1 streaming */
    uint8_t max_samples_per_frame;
    uint32_t odr_mhz;
    uint16_t acc_range_g;
    uint16_t gyr_range_dps;
    float acc_lsb_g;
    float gyr_lsb_dps;
    uint32_t clock_hz;
    uint16_t max_latency_ms;
    uint8_t mount;
    uint8_t reserved;
} imurep_info_t;

size_t imurep_encode_info(uint8_t *out, size_t cap, const imurep_info_t *info);
/* Accepts longer structs (append-only); rejects short ones, another major and zero/non-finite
 * rates or scale factors. */
imurep_result_t imurep_decode_info(const uint8_t *data, size_t len, imurep_info_t *out);

/* Manufacturer-specific AD payload: company id (LE), proto_major, battery % (0xFF unknown). */
size_t imurep_encode_mfr_data(uint8_t *out, size_t cap, uint8_t battery_pct);

/* ---- 4. control point --------------------------------------------------------------------- */

/* START / SET_CONFIG parameters as sent (0 = keep the current value). */
typedef struct {
    uint16_t odr_hz;
    uint8_t acc_range_g;
    uint16_t gyr_range_dps;
    uint16_t max_latency_ms;
} imurep_start_params_t;

typedef struct {
    uint8_t opcode;
    imurep_start_params_t params; /* START, SET_CONFIG */
    uint8_t identify_s;           /* IDENTIFY */
} imurep_command_t;

size_t imurep_encode_command(uint8_t *out, size_t cap, const imurep_command_t *cmd);
/* Returns IMUREP_ATT_OK or the ATT application error to answer the write with
 * (INVALID_OPCODE for unknown opcodes, INVALID_PARAM for a wrong length). */
uint8_t imurep_decode_command(const uint8_t *data, size_t len, imurep_command_t *out);

/* The applied configuration. */
typedef struct {
    uint32_t odr_mhz;
    uint16_t acc_range_g;
    uint16_t gyr_range_dps;
    uint16_t max_latency_ms;
} imurep_config_t;

/* LSM6DS3TR-C rates and ranges (PROTOCOL.md §3) and their datasheet sensitivities. */
#define IMUREP_N_ODRS 8u
extern const uint32_t IMUREP_ODRS_MHZ[IMUREP_N_ODRS];
float imurep_acc_lsb_g(uint16_t range_g);       /* 0.0f if unsupported */
float imurep_gyr_lsb_dps(uint16_t range_dps);   /* 0.0f if unsupported */

/* Resolve requested parameters against the current configuration: the rate snaps to the nearest
 * supported ODR if within 10 %, ranges must match exactly.  Returns IMUREP_ATT_OK (and fills
 * *out) or UNSUPPORTED_ODR / UNSUPPORTED_RANGE / INVALID_PARAM (max_latency 0 resolved to 0). */
uint8_t imurep_resolve_config(const imurep_start_params_t *req, const imurep_config_t *cur,
                              imurep_config_t *out);

/* What the firmware must do after a control-point write was accepted. */
typedef enum {
    IMUREP_ACTION_NONE = 0,
    IMUREP_ACTION_START = 1,    /* (re)configure the IMU with cp->config and (re)start: index := 0 */
    IMUREP_ACTION_STOP = 2,     /* stop the IMU / stream */
    IMUREP_ACTION_CONFIGURE = 3,/* SET_CONFIG while idle: apply cp->config */
    IMUREP_ACTION_IDENTIFY = 4  /* blink for cp->identify_s seconds */
} imurep_action_t;

/* Control-point state machine (one per sensor). */
typedef struct {
    imurep_config_t config;
    uint8_t config_id; /* increments (wrapping) on every applied change */
    bool streaming;
    uint8_t identify_s;
} imurep_cp_t;

void imurep_cp_init(imurep_cp_t *cp, const imurep_config_t *initial);
/* Handle one write.  Returns the ATT status (0 = accept) and sets *action. */
uint8_t imurep_cp_handle(imurep_cp_t *cp, const uint8_t *data, size_t len, imurep_action_t *action);
/* Firmware stopped on its own (disconnect, end of data). */
void imurep_cp_stopped(imurep_cp_t *cp);

/* Fill the info struct from the control-point state (imu model, clock, MTU-derived frame size). */
void imurep_cp_info(const imurep_cp_t *cp, uint8_t imu_model, uint32_t clock_hz, uint8_t max_per_frame,
                    uint8_t mount, imurep_info_t *out);

/* ---- 5. sample ring buffer ---------------------------------------------------------------- */

typedef struct {
    imurep_sample_t s;
    uint32_t t;     /* device clock at the sample, ticks */
    uint32_t index; /* sample index (mod 2^32) */
} imurep_ring_entry_t;

/* Samples not yet sent, oldest first.  When full, push() drops the OLDEST sample; the sample
 * index keeps counting, and the dropped range is accounted for (one pending record; disjoint
 * ranges are merged into their hull, which is harmless: hosts only use the ranges to attribute
 * gaps they actually see to "overflow"). */
typedef struct {
    imurep_ring_entry_t *buf; /* caller-provided storage */
    uint16_t capacity;
    uint16_t head;            /* position of the oldest entry */
    uint16_t count;
    uint32_t tail_index;      /* sample index of the oldest entry */
    uint32_t next_index;      /* index the next pushed sample gets */
    bool overflow_pending;
    uint32_t overflow_first;
    uint32_t overflow_count;
    uint32_t dropped_total;
} imurep_ring_t;

void imurep_ring_init(imurep_ring_t *r, imurep_ring_entry_t *storage, uint16_t capacity);
/* Empty the ring and restart the index (START): index := first_index. */
void imurep_ring_reset(imurep_ring_t *r, uint32_t first_index);
/* Returns false if the oldest sample had to be dropped to make room. */
bool imurep_ring_push(imurep_ring_t *r, const imurep_sample_t *s, uint32_t t);
/* `n` samples were lost before reaching the ring (e.g. the IMU FIFO overran): the index skips. */
void imurep_ring_skip(imurep_ring_t *r, uint32_t n);
const imurep_ring_entry_t *imurep_ring_peek(const imurep_ring_t *r, uint16_t k); /* k-th oldest */
void imurep_ring_pop(imurep_ring_t *r, uint16_t n);

/* ---- 6. stream packetizer and flush policy ------------------------------------------------ */

/* Flush policy (PROTOCOL.md §6): send when `pending` reaches `max_per_frame` (0 = compact: 1)
 * or when `latency_ticks` have passed since the first pending sample (wrap-safe). */
bool imurep_flush_due(uint16_t pending, uint8_t max_per_frame, uint32_t t_first_pending,
                      uint32_t now, uint32_t latency_ticks);

typedef struct {
    imurep_ring_t ring;
    uint8_t config_id;
    uint8_t max_per_frame;   /* from imurep_samples_per_frame(mtu); 0 = compact frames */
    uint32_t latency_ticks;  /* max_latency_ms in device clock ticks */
    /* the notification last built by imurep_stream_next(), consumed by imurep_stream_commit() */
    uint8_t built_kind;      /* 0 none, IMUREP_FRAME_* */
    uint16_t built_n;        /* samples in the built IMU/compact frame */
    uint32_t built_index;    /* its first index (status: the overflow record's first index) */
    uint32_t built_value;    /* status: the dropped count announced */
} imurep_stream_t;

void imurep_stream_init(imurep_stream_t *st, imurep_ring_entry_t *storage, uint16_t capacity);
/* (Re)start: empty the ring, index := 0, set frame size and latency. */
void imurep_stream_start(imurep_stream_t *st, uint8_t config_id, uint16_t att_mtu, uint16_t max_latency_ms,
                         uint32_t clock_hz);
void imurep_stream_set_mtu(imurep_stream_t *st, uint16_t att_mtu);
/* Build the next notification due at time `now` (device ticks) into `out` (>= 244 bytes is
 * always enough) without consuming anything; returns its length, 0 if nothing is due.  Due:
 * imurep_flush_due(), or the ring is full, or a skip() ends the run of consecutive indices.
 * A pending FIFO_OVERFLOW status comes first.  `force` flushes a partial frame (e.g. STOP).
 * After a successful notify call imurep_stream_commit(); if the TX queue was full, just call
 * imurep_stream_next() again later (samples keep accumulating in the ring meanwhile). */
size_t imurep_stream_next(imurep_stream_t *st, uint32_t now, bool force, uint8_t *out, size_t cap);
void imurep_stream_commit(imurep_stream_t *st);

#ifdef __cplusplus
}
#endif

#endif /* IMUREP_PROTO_H */
