"""phyphox's remote-access API as imurep reads and (for the simulated phone) writes it.

The expected texts are what phyphox's Android server produces: Java
``DecimalFormat("0.#######E0")`` with ``Locale.ENGLISH`` (RemoteServer.buildBuffer), the threshold
nudge of ``parseBufferRequest`` and the ``/get``, ``/config`` shapes of phyphox-docs' openapi.yaml.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from imurep.model.errors import SettingsError
from imurep.phone import api


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0E0"),
        (9.81, "9.81E0"),
        (-9.81, "-9.81E0"),
        (12.345678, "1.2345678E1"),
        (12.3456789, "1.2345679E1"),  # 8 significant digits
        (0.001, "1E-3"),
        (123456789.0, "1.2345679E8"),
        (1.0, "1E0"),
        (math.nan, "null"),
        (math.inf, "null"),
    ],
)
def test_numbers_are_written_as_phyphox_writes_them(value: float, text: str) -> None:
    assert api.format_number(value) == text
    if text != "null":
        assert json.loads(text) == pytest.approx(value, rel=1e-7)  # and they are valid JSON numbers


def test_the_threshold_nudge_skips_a_value_already_delivered_but_not_the_next_sample() -> None:
    raw = 12.3456784  # the phone's value; the client got "1.2345678E1"
    got = float(api.format_number(raw))
    th = api.nudged_threshold(got)
    assert th == pytest.approx(12.345679)
    assert not raw > th  # not delivered again
    assert raw + 0.001 > th  # the next sample at 1 kHz is
    assert api.nudged_threshold(0.0) == 0.0
    assert api.nudged_threshold(-2.0) > -2.0  # the nudge stays positive for negative thresholds


def test_request_values_single_full_threshold_and_reference() -> None:
    assert math.isnan(api.parse_request_value("")[0]) and math.isnan(api.parse_request_value(None)[0])
    assert api.parse_request_value("full") == (-math.inf, "")
    th, ref = api.parse_request_value("3|acc_time")
    assert ref == "acc_time" and th == pytest.approx(3.0000003)
    with pytest.raises(ValueError):
        api.parse_request_value("abc")


def test_incremental_query_encodes_the_bar() -> None:
    req = {**api.sensor_request(api.DEFAULT_ACC, 2.5), "gyr_time": ""}
    q = api.get_query(req)
    assert q == ("acc_time=2.5&accX=2.5%7Cacc_time&accY=2.5%7Cacc_time&accZ=2.5%7Cacc_time&gyr_time")
    assert "|" not in q
    full = api.get_query(api.sensor_request(api.DEFAULT_GYRO, None))
    assert full == "gyr_time=full&gyrX=full&gyrY=full&gyrZ=full"


def _config(*inputs: dict[str, object], sizes: dict[str, int] | None = None) -> dict[str, object]:
    names = [v for i in inputs for o in i["outputs"] for v in o.values()]  # type: ignore[attr-defined]
    return {
        "crc32": "abc",
        "title": "My IMU",
        "localTitle": "Mein IMU",
        "buffers": [{"name": n, "size": (sizes or {}).get(n, 0)} for n in names],
        "inputs": list(inputs),
        "export": [],
    }


def _input(source: str, prefix: str) -> dict[str, object]:
    return {
        "source": source,
        "outputs": [{"x": f"{prefix}X"}, {"y": f"{prefix}Y"}, {"z": f"{prefix}Z"}, {"t": f"{prefix}T"}],
    }


def test_config_names_the_buffers_of_both_sensors() -> None:
    cfg = _config(
        _input("magnetic_field", "m"),
        _input("accelerometer", "a"),
        _input("gyroscope", "g"),
        sizes={"aT": 5000},
    )
    layout = api.parse_config(cfg)
    assert layout.title == "Mein IMU"
    assert layout.acc == api.SensorBuffers("aT", "aX", "aY", "aZ", 5000)
    assert layout.gyr == api.SensorBuffers("gT", "gX", "gY", "gZ", 0)


def test_config_without_gravity_or_gyroscope_is_refused_with_what_to_do() -> None:
    with pytest.raises(SettingsError, match=r"without g.*cannot be used.*imurep-imu\.phyphox"):
        api.parse_config(_config(_input("linear_acceleration", "l"), _input("gyroscope", "g")))
    with pytest.raises(SettingsError, match=r"lacks 'Gyroscope'"):
        api.parse_config(_config(_input("accelerometer", "a")))
    partial = _config(_input("accelerometer", "a"), {"source": "gyroscope", "outputs": [{"x": "gX"}]})
    with pytest.raises(SettingsError, match="Gyroscope"):
        api.parse_config(partial)


def test_get_answers_are_parsed_with_nulls_as_nan_and_columns_cut_to_the_shortest() -> None:
    text = (
        '{"buffer":{\n"acc_time":{"size":0,"updateMode":"partial", "buffer":[1E-2,2E-2,3E-2]},\n'
        '"accX":{"size":0,"updateMode":"partial", "buffer":[1E0,null,3E0]},\n'
        '"accY":{"size":0,"updateMode":"partial", "buffer":[0E0,0E0]},\n'
        '"accZ":{"size":0,"updateMode":"partial", "buffer":[9.81E0,9.81E0,9.81E0]}\n},\n'
        '"status":{\n"session":"ab12cd", "measuring":true, "timedRun":false, "countDown":0\n}\n}\n'
    )
    answer = api.parse_get(json.loads(text))
    assert answer.status == api.Status("ab12cd", True, False, 0.0)
    data = api.sensor_data(answer, api.DEFAULT_ACC)
    np.testing.assert_array_equal(data.t_s, [0.01, 0.02])
    assert data.values.shape == (2, 3) and math.isnan(data.values[1, 0]) and data.update_mode == "partial"
    gyr = api.sensor_data(answer, api.DEFAULT_GYRO)
    assert gyr.missing == ("gyr_time", "gyrX", "gyrY", "gyrZ") and gyr.t_s.size == 0
    bads = (
        {},
        {"buffer": {}},
        {"buffer": {"a": {"buffer": ["x"]}}, "status": {}},
        {"buffer": [], "status": {}},
    )
    for bad in bads:
        with pytest.raises(api.AnswerError):
            api.parse_get(bad)
