// imurep reference firmware — Seeed XIAO nRF52840 Sense (LSM6DS3TR-C), Arduino + Adafruit Bluefruit.
//
// Protocol: firmware_protocol/PROTOCOL.md.  ALL protocol logic (frame/info/command codec, the
// control-point state machine with its ATT error codes, ODR snapping, the sample ring with overflow
// accounting and the flush policy) lives in the host-tested C code imurep_proto.{h,c}: copy those two
// files next to this sketch (see README.md).  This file only glues them to the IMU FIFO and the BLE
// stack.  It has NOT been compiled or run in this repository's CI (no toolchain/hardware there).
#include <Arduino.h>
#include <Wire.h>
#include <bluefruit.h>

#include "imurep_proto.h"  // has its own extern "C" guard

// ---- board ---------------------------------------------------------------------------------
// The IMU sits on the internal I2C bus (Wire1 in Seeed's nRF52 core) at 0x6A and is powered by a
// GPIO.  Check the names against your core version's variant.h.
#ifndef IMU_WIRE
#define IMU_WIRE Wire1
#endif
#ifndef PIN_LSM6DS3TR_C_POWER
#error "PIN_LSM6DS3TR_C_POWER is not defined by this core: define it (P1.08 on the XIAO nRF52840 Sense)"
#endif
static const uint8_t IMU_ADDR = 0x6A;

// LSM6DS3TR-C registers (datasheet DocID030071)
enum : uint8_t {
  REG_FIFO_CTRL1 = 0x06, REG_FIFO_CTRL2 = 0x07, REG_FIFO_CTRL3 = 0x08, REG_FIFO_CTRL4 = 0x09,
  REG_FIFO_CTRL5 = 0x0A, REG_WHO_AM_I = 0x0F, REG_CTRL1_XL = 0x10, REG_CTRL2_G = 0x11,
  REG_CTRL3_C = 0x12, REG_FIFO_STATUS1 = 0x3A, REG_FIFO_STATUS2 = 0x3B, REG_FIFO_STATUS3 = 0x3C,
  REG_FIFO_STATUS4 = 0x3D, REG_FIFO_DATA_OUT_L = 0x3E,
};

static const uint32_t CLOCK_HZ = 1000000;  // frame timestamps: micros()
static const uint16_t RING_CAPACITY = 512; // ~5 s at 104 Hz, 10 KB
static imurep_ring_entry_t ring_storage[RING_CAPACITY];
static imurep_stream_t stream;
static imurep_cp_t cp;
static uint16_t att_mtu = 23;
static uint16_t conn_handle = BLE_CONN_HANDLE_INVALID;
static uint32_t last_fifo_read_us = 0;
static uint32_t identify_until_ms = 0;

BLEService imu_service(IMUREP_UUID_SERVICE);
BLECharacteristic data_chr(IMUREP_UUID_DATA);
BLECharacteristic control_chr(IMUREP_UUID_CONTROL_POINT);
BLECharacteristic info_chr(IMUREP_UUID_INFO);
BLEDis dis;
BLEBas bas;

// ---- IMU -------------------------------------------------------------------------------------

static void imu_write(uint8_t reg, uint8_t value) {
  IMU_WIRE.beginTransmission(IMU_ADDR);
  IMU_WIRE.write(reg);
  IMU_WIRE.write(value);
  IMU_WIRE.endTransmission();
}

static size_t imu_read(uint8_t reg, uint8_t *buf, size_t n) {
  IMU_WIRE.beginTransmission(IMU_ADDR);
  IMU_WIRE.write(reg);
  if (IMU_WIRE.endTransmission(false) != 0) return 0;
  size_t got = IMU_WIRE.requestFrom(IMU_ADDR, (uint8_t)n);
  for (size_t k = 0; k < got; ++k) buf[k] = IMU_WIRE.read();
  return got;
}

static uint8_t odr_code(uint32_t odr_mhz) {  // 12.5 Hz -> 1 ... 1666 Hz -> 8 (CTRL1_XL/CTRL2_G/FIFO)
  for (uint8_t k = 0; k < IMUREP_N_ODRS; ++k)
    if (IMUREP_ODRS_MHZ[k] == odr_mhz) return (uint8_t)(k + 1);
  return 4;
}

static void imu_configure(const imurep_config_t &c, bool run) {
  const uint8_t odr = run ? odr_code(c.odr_mhz) : 0;
  const uint8_t fs_xl = c.acc_range_g == 2 ? 0 : c.acc_range_g == 16 ? 1 : c.acc_range_g == 4 ? 2 : 3;
  const uint8_t fs_g = c.gyr_range_dps == 245 ? 0 : c.gyr_range_dps == 500 ? 1 : c.gyr_range_dps == 1000 ? 2 : 3;
  const uint8_t fs125 = c.gyr_range_dps == 125 ? 0x02 : 0x00;
  imu_write(REG_FIFO_CTRL5, 0x00);                          // bypass: empties the FIFO
  imu_write(REG_CTRL3_C, 0x44);                             // BDU, register auto-increment
  imu_write(REG_CTRL1_XL, (uint8_t)((odr << 4) | (fs_xl << 2)));
  imu_write(REG_CTRL2_G, (uint8_t)((odr << 4) | (c.gyr_range_dps == 125 ? 0 : fs_g << 2) | fs125));
  imu_write(REG_FIFO_CTRL3, 0x09);                          // gyro and accel in the FIFO, no decimation
  if (run) imu_write(REG_FIFO_CTRL5, (uint8_t)((odr << 3) | 0x06));  // FIFO ODR, continuous mode
}

// Drain the FIFO into the ring.  FIFO order per sample: gyro x,y,z then accel x,y,z (pattern 0..5).
static void imu_poll() {
  uint8_t st[4];
  if (imu_read(REG_FIFO_STATUS1, st, 4) != 4) return;
  const uint32_t now = micros();
  uint16_t words = (uint16_t)(st[0] | ((st[1] & 0x07) << 8));
  uint16_t pattern = (uint16_t)(st[2] | ((st[3] & 0x03) << 8));
  const bool overrun = (st[1] & 0x40) != 0;
  const float period_us = 1e9f / (float)cp.config.odr_mhz;
  uint8_t w[2];
  while (pattern != 0 && words > 0) {  // realign on a sample boundary
    imu_read(REG_FIFO_DATA_OUT_L, w, 2);
    --words;
    pattern = (uint16_t)((pattern + 1) % 6);
  }
  const uint16_t n = words / 6;
  if (overrun) {  // the FIFO overwrote its oldest samples: estimate how many from the elapsed time
    const uint32_t expected = (uint32_t)((float)(now - last_fifo_read_us) / period_us + 0.5f);
    if (expected > n) imurep_ring_skip(&stream.ring, expected - n);
  }
  last_fifo_read_us = now;
  // Burst reads rely on the FIFO output register rolling back from 0x3F to 0x3E (as ST's own driver
  // does in fifo_raw_data_get); 4 samples (48 B) per I2C transaction fit the Wire buffer.
  uint8_t buf[48];
  for (uint16_t k = 0; k < n; k += 4) {
    const uint16_t m = (uint16_t)min<int>(4, n - k);
    if (imu_read(REG_FIFO_DATA_OUT_L, buf, (size_t)m * 12) != (size_t)m * 12) return;
    for (uint16_t j = 0; j < m; ++j) {
      const uint8_t *b = buf + 12 * j;
      imurep_sample_t s;
      for (int a = 0; a < 3; ++a) {
        s.v[a] = (int16_t)(b[6 + 2 * a] | (b[7 + 2 * a] << 8));   // accel
        s.v[3 + a] = (int16_t)(b[2 * a] | (b[1 + 2 * a] << 8));   // gyro
      }
      // the newest sample was taken about now; older ones one period earlier each
      const uint32_t t = now - (uint32_t)((float)(n - 1 - (k + j)) * period_us);
      imurep_ring_push(&stream.ring, &s, t);
    }
  }
}

// ---- BLE -------------------------------------------------------------------------------------

static void info_update() {
  imurep_info_t info;
  uint8_t buf[IMUREP_INFO_BYTES];
  imurep_cp_info(&cp, IMUREP_IMU_LSM6DS3TRC, CLOCK_HZ, imurep_samples_per_frame(att_mtu), 0, &info);
  imurep_encode_info(buf, sizeof buf, &info);
  info_chr.write(buf, sizeof buf);
}

static void start_stream() {
  imu_configure(cp.config, true);
  imurep_stream_start(&stream, cp.config_id, att_mtu, cp.config.max_latency_ms, CLOCK_HZ);
  last_fifo_read_us = micros();
}

static void stop_stream() {
  imu_configure(cp.config, false);
  imurep_cp_stopped(&cp);
}

// Control point: write authorisation, so that rejections are ATT application errors (0x80..).
static void control_write_cb(uint16_t conn_hdl, BLECharacteristic *chr, ble_gatts_evt_write_t *req) {
  (void)chr;
  imurep_action_t action;
  const uint8_t err = imurep_cp_handle(&cp, req->data, req->len, &action);
  ble_gatts_rw_authorize_reply_params_t reply;
  memset(&reply, 0, sizeof reply);
  reply.type = BLE_GATTS_AUTHORIZE_TYPE_WRITE;
  reply.params.write.update = 1;
  reply.params.write.len = req->len;
  reply.params.write.p_data = req->data;
  // SoftDevice: ATT error code E is reported as gatt_status 0x0100 | E (BLE_GATT_STATUS_ATTERR_APP_BEGIN = 0x0180)
  reply.params.write.gatt_status = err == IMUREP_ATT_OK ? BLE_GATT_STATUS_SUCCESS : (uint16_t)(0x0100 | err);
  sd_ble_gatts_rw_authorize_reply(conn_hdl, &reply);
  if (err != IMUREP_ATT_OK) return;
  switch (action) {
    case IMUREP_ACTION_START: start_stream(); break;
    case IMUREP_ACTION_STOP: stop_stream(); break;
    case IMUREP_ACTION_IDENTIFY: identify_until_ms = millis() + 1000u * cp.identify_s; break;
    default: break;  // CONFIGURE: applied by the next START
  }
  info_update();  // hosts read Info after START for the applied values
}

static void connect_cb(uint16_t handle) {
  conn_handle = handle;
  BLEConnection *conn = Bluefruit.Connection(handle);
  conn->requestMtuExchange(247);
  conn->requestDataLengthUpdate();
  conn->requestPHY();                                   // 2M where supported
  // PROTOCOL.md §7: 15-30 ms (units of 1.25 ms), latency 0, supervision timeout 4 s (units of 10 ms)
  conn->requestConnectionParameter(12, 0, 400);
  att_mtu = 23;
  info_update();
}

static void disconnect_cb(uint16_t handle, uint8_t reason) {
  (void)handle;
  (void)reason;
  conn_handle = BLE_CONN_HANDLE_INVALID;
  if (cp.streaming) stop_stream();  // the firmware also stops on disconnect
  info_update();
}

static void setup_ble() {
  Bluefruit.configPrphBandwidth(BANDWIDTH_MAX);  // MTU 247, large event length / TX queue
  Bluefruit.begin();
  Bluefruit.setTxPower(4);
  char name[16];
  snprintf(name, sizeof name, "imurep-%04X", (unsigned)(NRF_FICR->DEVICEADDR[0] & 0xFFFF));
  Bluefruit.setName(name);
  Bluefruit.Periph.setConnectCallback(connect_cb);
  Bluefruit.Periph.setDisconnectCallback(disconnect_cb);
  Bluefruit.Periph.setConnInterval(12, 24);

  char serial[17];
  snprintf(serial, sizeof serial, "%08lX%08lX", (unsigned long)NRF_FICR->DEVICEID[1],
           (unsigned long)NRF_FICR->DEVICEID[0]);
  dis.setManufacturer("imurep");
  dis.setModel("XIAO nRF52840 Sense");
  dis.setSerialNum(serial);  // the stable sensor id (hosts must not rely on MAC addresses)
  dis.setFirmwareRev("1.0.0");
  dis.setHardwareRev("xiao-sense");
  dis.begin();
  bas.begin();
  bas.write(100);

  imu_service.begin();
  data_chr.setProperties(CHR_PROPS_NOTIFY);
  data_chr.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
  data_chr.setMaxLen(IMUREP_MAX_FRAME_BYTES);
  data_chr.begin();
  control_chr.setProperties(CHR_PROPS_WRITE | CHR_PROPS_NOTIFY);
  control_chr.setPermission(SECMODE_OPEN, SECMODE_OPEN);
  control_chr.setMaxLen(20);
  control_chr.setWriteAuthorizeCallback(control_write_cb);
  control_chr.begin();
  info_chr.setProperties(CHR_PROPS_READ);
  info_chr.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
  info_chr.setFixedLen(IMUREP_INFO_BYTES);
  info_chr.begin();
  info_update();

  // ADV: flags + complete 128-bit service UUID + manufacturer data; name in the scan response.
  uint8_t mfr[IMUREP_MFR_DATA_BYTES];
  imurep_encode_mfr_data(mfr, sizeof mfr, 0xFF);
  Bluefruit.Advertising.addFlags(BLE_GAP_ADV_FLAGS_LE_ONLY_GENERAL_DISC_MODE);
  Bluefruit.Advertising.addService(imu_service);
  Bluefruit.Advertising.addData(BLE_GAP_AD_TYPE_MANUFACTURER_SPECIFIC_DATA, mfr, sizeof mfr);
  Bluefruit.ScanResponse.addName();
  Bluefruit.Advertising.restartOnDisconnect(true);
  Bluefruit.Advertising.setInterval(32, 244);  // 20 ms fast, 152.5 ms slow (units of 0.625 ms)
  Bluefruit.Advertising.setFastTimeout(30);
  Bluefruit.Advertising.start(0);
}

void setup() {
  pinMode(LED_BUILTIN, OUTPUT);
  pinMode(PIN_LSM6DS3TR_C_POWER, OUTPUT);
  digitalWrite(PIN_LSM6DS3TR_C_POWER, HIGH);
  delay(20);
  IMU_WIRE.begin();
  IMU_WIRE.setClock(400000);
  const imurep_config_t initial = {104000u, 8u, 1000u, 50u};
  imurep_cp_init(&cp, &initial);
  imurep_stream_init(&stream, ring_storage, RING_CAPACITY);
  uint8_t who = 0;
  imu_read(REG_WHO_AM_I, &who, 1);  // 0x6A for the LSM6DS3TR-C
  imu_configure(cp.config, false);
  setup_ble();
  (void)who;
}

void loop() {
  digitalWrite(LED_BUILTIN, (millis() < identify_until_ms && (millis() / 250) % 2) ? LOW : HIGH);
  if (!cp.streaming || conn_handle == BLE_CONN_HANDLE_INVALID) {
    delay(10);
    return;
  }
  BLEConnection *conn = Bluefruit.Connection(conn_handle);
  if (conn != nullptr && conn->getMtu() != att_mtu) {  // MTU exchange completed: frames follow it
    att_mtu = conn->getMtu();
    imurep_stream_set_mtu(&stream, att_mtu);
    info_update();  // Info.max_samples_per_frame follows the MTU
  }
  imu_poll();
  uint8_t frame[IMUREP_MAX_FRAME_BYTES];
  size_t len;
  while ((len = imurep_stream_next(&stream, micros(), false, frame, sizeof frame)) > 0) {
    if (!data_chr.notify(frame, (uint16_t)len)) break;  // TX queue full: samples wait in the ring
    imurep_stream_commit(&stream);
  }
  delay(2);
}
