#!/usr/bin/env python3
"""Generate firmware_protocol/vectors/*.json with the Python reference encoder.

Usage: ``python firmware_protocol/tools/make_vectors.py [OUT_DIR]`` (default: ../vectors).
The output is deterministic; tests check that the checked-in files are up to date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from imurep.ble import protocol as p


def _samples(n: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    arr = rng.integers(-32768, 32768, size=(n, 6))
    return [[int(v) for v in row] for row in arr]


def _imu(
    name: str, first_index: int, t_device: int, samples: list[list[int]], config_id: int = 0
) -> dict[str, Any]:
    frame = p.encode_imu_frame(first_index, t_device, np.asarray(samples), config_id=config_id)
    return {
        "name": name,
        "kind": "imu",
        "hex": frame.hex(),
        "decoded": {
            "proto_major": 1,
            "frame_type": p.FRAME_IMU6,
            "n": len(samples),
            "config_id": config_id,
            "first_index": first_index % p.U32,
            "t_device": t_device % p.U32,
            "samples": samples,
        },
    }


def frame_vectors() -> list[dict[str, Any]]:
    v: list[dict[str, Any]] = []
    v.append(_imu("one_sample", 0, 0, [[1, -1, 2, -2, 3, -3]]))
    v.append(_imu("typical_8", 104, 1_000_000, _samples(8, 1), config_id=3))
    v.append(_imu("max_samples_19", 123456, 987654321, _samples(19, 2), config_id=255))
    v.append(_imu("int16_extremes", 7, 7, [[-32768, 32767, 0, -32768, 32767, -1]] * 2))
    v.append(_imu("index_near_wrap", 0xFFFFFFFB, 4000, _samples(10, 3)))
    v.append(_imu("timestamp_near_wrap", 500, 0xFFFFFFF0, _samples(4, 4)))
    v.append(_imu("all_u32_max", 0xFFFFFFFF, 0xFFFFFFFF, _samples(1, 5), config_id=1))
    for name, code, idx, t, value, cfg in (
        ("status_fifo_overflow", p.STATUS_FIFO_OVERFLOW, 2000, 123456, 37, 2),
        ("status_config_changed", p.STATUS_CONFIG_CHANGED, 4096, 5_000_000, 0, 4),
        ("status_low_battery", p.STATUS_LOW_BATTERY, 9, 10, 12, 0),
        ("status_stream_stopped", p.STATUS_STREAM_STOPPED, 0xFFFFFFFF, 0xFFFFFFFF, 1, 0),
    ):
        frame = p.encode_status_frame(code, idx, t, value, config_id=cfg)
        v.append(
            {
                "name": name,
                "kind": "status",
                "hex": frame.hex(),
                "decoded": {
                    "proto_major": 1,
                    "frame_type": p.FRAME_STATUS,
                    "code": code,
                    "config_id": cfg,
                    "index": idx,
                    "t_device": t,
                    "value": value,
                },
            }
        )
    for name, idx, t, s in (("compact", 65535, 42, [-5, 4, -3, 2, -1, 0]), ("compact_zero", 0, 0, [0] * 6)):
        frame = p.encode_compact_frame(idx, t, np.asarray(s))
        v.append(
            {
                "name": name,
                "kind": "compact",
                "hex": frame.hex(),
                "decoded": {
                    "proto_major": 1,
                    "frame_type": p.FRAME_IMU6_COMPACT,
                    "n": 1,
                    "index_lo": idx,
                    "t_device": t,
                    "samples": [s],
                },
            }
        )
    v.append(
        {
            "name": "unknown_type_ignored",
            "kind": "unknown",
            "hex": "017f00112233",
            "decoded": {"frame_type": 0x7F},
        }
    )
    good = bytes.fromhex(v[1]["hex"])
    status = bytes.fromhex(v[7]["hex"])
    compact = bytes.fromhex(v[11]["hex"])
    malformed = {
        "empty": b"",
        "one_byte": b"\x01",
        "wrong_major": b"\x02" + good[1:],
        "major_zero": b"\x00" + good[1:],
        "type_zero": b"\x01\x00" + good[2:],
        "header_truncated": good[:11],
        "n_zero": good[:2] + b"\x00" + good[3:12],
        "n_too_large": good[:2] + bytes([20]) + good[3:12] + bytes(240),
        "length_short": good[:-1],
        "length_long": good + b"\x00",
        "status_truncated": status[:15],
        "compact_short": compact[:19],
        "compact_long": compact + b"\x00",
    }
    for name, data in malformed.items():
        v.append({"name": f"malformed_{name}", "kind": "malformed", "hex": data.hex()})
    return v


def info_vectors() -> list[dict[str, Any]]:
    out = []
    infos = {
        "lsm6ds3trc_104hz": p.DeviceInfo(),
        "simulator_416hz": p.DeviceInfo(
            imu_model=p.IMU_SIMULATOR,
            config_id=9,
            state=1,
            max_samples_per_frame=14,
            odr_mhz=416000,
            acc_range_g=16,
            gyr_range_dps=2000,
            acc_lsb_g=p.ACC_LSB_G[16],
            gyr_lsb_dps=p.GYR_LSB_DPS[2000],
            clock_hz=32768,
            max_latency_ms=20,
            mount=3,
        ),  # fmt: skip
    }
    for name, info in infos.items():
        d = {k: getattr(info, k) for k in info.__dataclass_fields__}
        out.append({"name": name, "kind": "info", "hex": info.pack().hex(), "decoded": d})
    out.append(
        {
            "name": "info_longer_is_accepted",
            "kind": "info_prefix",
            "hex": (infos["lsm6ds3trc_104hz"].pack() + b"\xaa\xbb").hex(),
        }
    )
    out.append(
        {"name": "info_truncated", "kind": "malformed", "hex": infos["lsm6ds3trc_104hz"].pack()[:31].hex()}
    )
    out.append(
        {
            "name": "info_wrong_major",
            "kind": "malformed",
            "hex": (b"\x02" + infos["lsm6ds3trc_104hz"].pack()[1:]).hex(),
        }
    )
    return out


def command_vectors() -> list[dict[str, Any]]:
    out = []
    cmds = [
        ("start_104hz", p.OP_START, p.StartConfig(104, 8, 1000, 50)),
        ("start_keep", p.OP_START, p.StartConfig()),
        ("set_config_833hz", p.OP_SET_CONFIG, p.StartConfig(833, 16, 2000, 10)),
        ("stop", p.OP_STOP, None),
    ]
    for name, op, cfg in cmds:
        d: dict[str, Any] = {"opcode": op}
        if cfg is not None:
            d.update(odr_hz=cfg.odr_hz, acc_range_g=cfg.acc_range_g, gyr_range_dps=cfg.gyr_range_dps,
                     max_latency_ms=cfg.max_latency_ms)  # fmt: skip
        out.append({"name": name, "kind": "command", "hex": p.encode_command(op, cfg).hex(), "decoded": d})
    ident = p.encode_command(p.OP_IDENTIFY, identify_s=3).hex()
    out.append({"name": "identify_3s", "kind": "command",
                "hex": ident, "decoded": {"opcode": 4, "seconds": 3}})
    for name, data, err in (
        ("empty", b"", p.ERR_INVALID_PARAM),
        ("unknown_opcode", b"\x7f", p.ERR_INVALID_OPCODE),
        ("start_short", b"\x01\x68\x00", p.ERR_INVALID_PARAM),
        ("stop_with_params", b"\x02\x00", p.ERR_INVALID_PARAM),
    ):
        out.append({"name": f"bad_{name}", "kind": "bad_command", "hex": data.hex(), "att_error": err})
    return out


def stream_vectors() -> list[dict[str, Any]]:
    """Sequences of frames with the gaps/duplicates a decoder must report (index and time wrap)."""
    s = _samples(19, 9)
    base = 0xFFFFFFF0
    frames = []
    idx, t = base, 0xFFFFFF00
    for k in range(6):
        n = 8
        if k == 3:  # frame lost: 8 samples missing
            idx += n
            t += n * 9615
            continue
        frames.append({"hex": p.encode_imu_frame(idx, t, np.asarray(s[:n])).hex()})
        if k == 4:
            frames.append({"hex": p.encode_imu_frame(idx, t, np.asarray(s[:n])).hex()})  # duplicate
        idx += n
        t += n * 9615
    return [
        {
            "name": "index_and_time_wrap_with_loss_and_duplicate",
            "kind": "stream",
            "info_hex": p.DeviceInfo().pack().hex(),
            "frames": frames,
            "expect": {"samples": 40, "gaps": [{"n_samples": 8, "reason": "lost"}], "duplicates": 1},
        }
    ]


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "vectors"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, vectors in (
        ("frames", frame_vectors()),
        ("info", info_vectors()),
        ("commands", command_vectors()),
        ("streams", stream_vectors()),
    ):
        doc = {"protocol": f"imurep/{p.PROTO_MAJOR}.{p.PROTO_MINOR}", "vectors": vectors}
        (out_dir / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
