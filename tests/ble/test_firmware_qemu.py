"""The C codec and firmware logic (firmware_protocol/c) built for the sensor's CPU and run there.

The XIAO nRF52840 Sense has a Cortex-M4F.  Here the codec is cross-compiled for that CPU class
(arm-none-eabi-gcc, Thumb-2, hard float, -Os, warnings are errors) and its test program
(test_proto.c: every conformance vector + the firmware-helper unit tests) runs on an emulated
Cortex-M4 (qemu-system-arm, machine mps2-an386) through newlib's semihosting, with the startup
code and linker script in firmware_protocol/c/qemu_m4/.  The emulated run is also fed the
script modes of test_proto.c: the target's encoder must equal the Python encoder, and its
ring buffer + packetizer the host build's output (which test_protocol_c.py checks
against the Python model).

Skips when the tools are missing (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi
qemu-system-arm; .ci/run installs them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from imurep.ble import protocol as p

REPO = Path(__file__).resolve().parents[2]
CDIR = REPO / "firmware_protocol" / "c"
QDIR = CDIR / "qemu_m4"
CPU = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
# as the host build (test_protocol_c.py) at -Os, plus: no silent float -> double promotion (the
# FPU is single precision) and no cast that raises the alignment of a pointer
WARN = ["-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow", "-Wconversion"]
STRICT = ["-Os", "-std=c99", *WARN, "-Wdouble-promotion", "-Wcast-align=strict"]
LINK = ["--specs=rdimon.specs", "-nostartfiles", "-T", str(QDIR / "mps2_an386.ld"), "-Wl,--gc-sections"]
PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
# Flash budget of the codec object (-Os): 2.8 KiB with GCC 12.2 (README of the firmware).
CODEC_TEXT_BUDGET = 4096
# What the codec may take from the C library / libgcc: no I/O, no malloc, no soft double maths.
# (One 64-bit division, the latency in ticks; GCC declares the signed helper alongside.)
CODEC_EXTERNALS = {"memset", "memcpy", "__aeabi_uldivmod", "__aeabi_ldivmod"}
TIMEOUT_S = 60


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not on PATH (Debian packages: {PACKAGES})")
    return path


@pytest.fixture(scope="module")
def gcc() -> str:
    cc = _tool("arm-none-eabi-gcc")
    specs = subprocess.run([cc, *CPU, "-print-file-name=rdimon.specs"], capture_output=True, text=True)
    if not Path(specs.stdout.strip()).is_absolute():
        pytest.skip(f"newlib for arm-none-eabi missing, no rdimon.specs (Debian packages: {PACKAGES})")
    return cc


@pytest.fixture(scope="module")
def qemu() -> str:
    return _tool("qemu-system-arm")


def _build(gcc: str, out: Path, *sources: Path, extra: tuple[str, ...] = ()) -> Path:
    cmd = [gcc, *CPU, *STRICT, *extra, "-I", str(CDIR), *LINK, "-o", str(out), *map(str, sources)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert res.returncode == 0, f"Cortex-M4 build failed (warnings are errors):\n{res.stderr}"
    return out


def _run(qemu: str, elf: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    semihosting = "enable=on,target=native" + "".join(f",arg={a}" for a in ("test_proto", *args))
    cmd = [
        qemu,
        "-machine",
        "mps2-an386",
        "-cpu",
        "cortex-m4",
        "-nographic",
        "-monitor",
        "none",
        "-semihosting-config",
        semihosting,
        "-kernel",
        str(elf),
    ]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=TIMEOUT_S)


@pytest.fixture(scope="module")
def m4_elf(gcc: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("m4") / "test_proto.elf"
    return _build(gcc, out, QDIR / "startup.c", CDIR / "test_proto.c", CDIR / "imurep_proto.c")


def test_codec_object_fits_a_small_flash_budget_and_needs_no_ram(gcc: str, tmp_path: Path) -> None:
    obj = tmp_path / "imurep_proto.o"
    res = subprocess.run(
        [gcc, *CPU, *STRICT, "-c", "-o", str(obj), str(CDIR / "imurep_proto.c")],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert res.returncode == 0, f"codec does not build for Cortex-M4F:\n{res.stderr}"
    size = subprocess.run([_tool("arm-none-eabi-size"), str(obj)], capture_output=True, text=True, check=True)
    text, data, bss = map(int, size.stdout.splitlines()[1].split()[:3])
    assert data == 0 and bss == 0, f"the codec keeps state of its own: data={data} bss={bss}"
    assert 0 < text <= CODEC_TEXT_BUDGET, f"codec flash {text} B > budget {CODEC_TEXT_BUDGET} B"
    undefined = subprocess.run(
        [_tool("arm-none-eabi-nm"), "-u", str(obj)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert set(undefined[1::2]) <= CODEC_EXTERNALS, undefined


def test_vectors_pass_on_emulated_cortex_m4(qemu: str, m4_elf: Path) -> None:
    res = _run(qemu, m4_elf)
    assert res.returncode == 0, f"exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    assert "FAIL" not in res.stderr, res.stderr
    summary = r"^(\d+) checks, 0 failures \((\d+) frame, (\d+) info, (\d+) command, (\d+) stream vectors\)$"
    m = re.search(summary, res.stdout, re.MULTILINE)
    assert m is not None, res.stdout
    # every generated vector ran (counts as in test_vectors.h)
    header = dict(re.findall(r"#define TV_N_(\w+) (\d+)u", (CDIR / "test_vectors.h").read_text()))
    expected = [int(header[k]) for k in ("FRAMES", "INFO", "COMMANDS", "STREAMS")]
    assert int(m.group(1)) > 100 and [int(g) for g in m.groups()[1:]] == expected


def test_emulated_failures_and_faults_fail_the_run(gcc: str, qemu: str, tmp_path: Path) -> None:
    """The harness itself can fail: a non-zero exit status and a CPU fault both reach the host."""
    src = tmp_path / "probe.c"
    src.write_text(
        "#include <stdio.h>\n"
        "int main(int argc, char **argv)\n{\n"
        "    volatile float x = 1.5f;\n"
        '    printf("%d %s %d\\n", argc, argv[1], (int)(x * 3.0f)); /* FPU enabled, args passed */\n'
        "    if (argv[1][0] == 'c') {\n        __asm__ volatile(\"udf #0\");\n    }\n"
        '    fprintf(stderr, "1 checks, 1 failures\\n");\n'
        "    return 1;\n}\n"
    )
    elf = _build(gcc, tmp_path / "probe.elf", QDIR / "startup.c", src)
    res = _run(qemu, elf, "exit1")
    assert (res.returncode, res.stdout, res.stderr) == (1, "2 exit1 4\n", "1 checks, 1 failures\n")
    res = _run(qemu, elf, "crash")
    assert res.returncode == 3 and res.stdout == "2 crash 4\n" and "FAULT" in res.stderr, res


def test_target_encoder_equals_python_encoder(qemu: str, m4_elf: Path) -> None:
    rng = np.random.default_rng(17)
    lines, expected = [], []
    for k in range(120):
        idx, t = int(rng.integers(0, 2**32)), int(rng.integers(0, 2**32))
        if k % 3 == 0:
            n, cfg = int(rng.integers(1, 20)), int(rng.integers(0, 256))
            s = rng.integers(-32768, 32768, size=(n, 6)).astype(np.int16)
            lines.append(f"imu {cfg} {idx} {t} {n} " + " ".join(map(str, s.ravel())))
            expected.append(p.encode_imu_frame(idx, t, s, config_id=cfg))
        elif k % 3 == 1:
            s1 = rng.integers(-32768, 32768, size=6).astype(np.int16)
            lines.append(f"compact {idx} {t} " + " ".join(map(str, s1)))
            expected.append(p.encode_compact_frame(idx, t, s1))
        else:
            code, cfg = int(rng.integers(0, 256)), int(rng.integers(0, 256))
            value = int(rng.integers(0, 2**32))
            lines.append(f"status {code} {cfg} {idx} {t} {value}")
            expected.append(p.encode_status_frame(code, idx, t, value, config_id=cfg))
    res = _run(qemu, m4_elf, "frames", stdin="\n".join(lines) + "\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [e.hex() for e in expected]


@pytest.fixture(scope="module")
def host_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no host C compiler (cc) to compare the target's stream output with")
    out = tmp_path_factory.mktemp("host") / "test_proto"
    cmd = [
        cc,
        "-std=c99",
        "-O1",
        "-I",
        str(CDIR),
        "-o",
        str(out),
        str(CDIR / "test_proto.c"),
        str(CDIR / "imurep_proto.c"),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=TIMEOUT_S)
    return out


@pytest.mark.parametrize(("mtu", "latency_ms", "capacity", "seed"), [(247, 50, 4096, 0), (23, 20, 16, 1)])
def test_target_packetizer_equals_host_build(
    qemu: str, m4_elf: Path, host_binary: Path, mtu: int, latency_ms: int, capacity: int, seed: int
) -> None:
    """Ring buffer, overflow accounting and flush policy on the target, across the device-clock wrap."""
    rng = np.random.default_rng(seed)
    script = []
    t = 0xFFFFFFFF - 300_000
    for _ in range(1200):
        r = rng.random()
        if r < 0.01:
            script.append("txoff" if r < 0.005 else "txon")
        elif r < 0.015:
            script.append(f"skip {int(rng.integers(1, 40))}")
        t = (t + int(rng.integers(9000, 10200))) % p.U32
        script.append(f"s {t} " + " ".join(map(str, rng.integers(-32768, 32768, size=6))))
    script.append(f"flush {t}")
    args = (str(mtu), str(latency_ms), "1000000", str(capacity))
    stdin = "\n".join(script) + "\n"
    host = subprocess.run(
        [str(host_binary), "stream", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    res = _run(qemu, m4_elf, "stream", *args, stdin=stdin)
    assert res.returncode == 0, res.stderr
    assert len(host.stdout.split()) > 50
    assert res.stdout == host.stdout
