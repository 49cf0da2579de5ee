#!/usr/bin/env python3
"""Writes the sample machine exports in this folder (R12 parser tests).

They are synthetic, modelled on what Chinese lab software exports (GBK with
full-width colons and CRLF; UTF-8 with a BOM, N and ms; tab-separated English),
and written independently of the crate's own writer so the parser is not only
tested against itself. Deterministic: rerunning gives the same bytes.

    python3 make_samples.py   # from shared/tests/curves/
"""
import math
import random

rng = random.Random(20261120)


def cube_rows():
    """150 mm cube, C30, 0.8 MPa/s, 10 Hz: toe, linear rise with ripple, brittle drop."""
    area = 22500.0
    rate_kn_s = 0.8 * area / 1000.0  # 18 kN/s
    peak = 803.52
    rows, t, f, d = [], 0.0, 0.0, 0.0
    while f < peak:
        toe = min(1.0, t / 2.0)  # platens seat over the first 2 s
        f = max(0.0, rate_kn_s * (t - 1.0 + (1.0 - toe) ** 2) + rng.gauss(0, 0.4) + 0.6 * math.sin(t * 7.0))
        f = min(f, peak)
        d = 0.05 * toe + f / 1150.0 + 0.15 * (f / peak) ** 6 + rng.gauss(0, 0.0008)
        rows.append((t, f, d))
        t = round(t + 0.1, 2)
    for drop in (0.93, 0.71, 0.74, 0.52, 0.31):  # crushing: irregular fall, then the machine stops
        d += 0.04 + rng.random() * 0.05
        rows.append((t, peak * drop + rng.gauss(0, 3), d))
        t = round(t + 0.1, 2)
    return rows


def rebar_rows(hz=10.0, yield_mpa=452.0, rm_mpa=618.0, area=314.2, le=50.0):
    """HRB400E 20 mm: elastic (E 200 GPa over Le), upper yield spike, noisy plateau,
    hardening to Fm, necking and fracture."""
    rows, t, e = [], 0.0, 0.0
    e_y, e_h, e_u, e_f = yield_mpa / 200000.0, 0.022, 0.115, 0.19
    while True:
        if e < e_y * 1.04:
            s = 200000.0 * e
            e += 25.0 / 200000.0 / hz
        elif e < e_y * 1.04 + 0.0006:
            s = yield_mpa * 1.035  # upper yield
            e += 0.0008 / hz
        elif e < e_h:
            s = yield_mpa + rng.gauss(0, 1.6)
            e += 0.0008 / hz
        elif e < e_u:
            x = (e - e_h) / (e_u - e_h)
            s = yield_mpa + (rm_mpa - yield_mpa) * (1 - (1 - x) ** 2.3)
            e += 0.0067 / hz
        elif e < e_f:
            x = (e - e_u) / (e_f - e_u)
            s = rm_mpa * (1 - 0.2 * x ** 2)
            e += 0.0067 / hz
        else:
            break
        rows.append((t, s * area + rng.gauss(0, 60), e * le + rng.gauss(0, 0.0004)))
        t += 1.0 / hz
    rows.append((t, 900.0, e * le))  # fracture: the force falls to almost nothing
    rows.append((t + 1.0 / hz, 40.0, e * le))
    return rows


def write(name, text, encoding):
    with open(name, "wb") as f:
        f.write(text.encode(encoding))


CUBE_HEADER = [
    "压力试验机试验数据",
    "试样编号：YK2611200347-2",
    "设备编号：YAW-2000B-0381",
    "试验项目：混凝土立方体抗压强度",
    "强度等级：C30",
    "试件尺寸：150×150×150mm",
    "面积：22500mm2",
    "加载速率：0.8MPa/s",
    "试验日期：2026-11-20 09:41:07",
    "最大力(kN)：803.52",
    "抗压强度(MPa)：35.7",
    "",
]


def cube_text(rows, force_label="力(kN)"):
    lines = CUBE_HEADER + [f"序号,时间(s),{force_label},位移(mm)"]
    lines += [f"{i + 1},{t:.2f},{f:.2f},{d:.3f}" for i, (t, f, d) in enumerate(rows)]
    return "\r\n".join(lines) + "\r\n"


cube = cube_rows()
write("cube_c30_gbk.csv", cube_text(cube), "gbk")

rebar = rebar_rows()
fm = max(f for _, f, _ in rebar)
rebar_lines = [
    "Specimen ID,YK2611200412-1",
    "Machine,WAW-600B-0127",
    "Test,rebar_tensile",
    "牌号,HRB400E",
    "公称直径,20mm",
    "原始横截面积,314.2 mm²",
    "原始标距,100 mm",
    "引伸计标距,50 mm",
    "断后标距,121.5 mm",
    "加载速率,25 MPa/s",
    "开始时间,2026-11-20 10:02:55",
    "上屈服强度(MPa),468",
    "下屈服强度(MPa),452",
    f"最大力(N),{fm:.0f}",
    "抗拉强度(MPa),618",
    "Time (ms),Force (N),Extension (mm)",
] + [f"{round(t * 1000)},{f:.1f},{d:.4f}" for t, f, d in rebar]
write("rebar_hrb400e_utf8_bom.csv", "\ufeff" + "\r\n".join(rebar_lines) + "\r\n", "utf-8")

coupler = rebar_rows(hz=5.0, yield_mpa=445.0, rm_mpa=611.0, area=490.9, le=50.0)
coupler_lines = [
    "Specimen:\tYK2611200518-3",
    "Machine\tZwick Z600 #4711",
    "Test\tcoupler_tensile",
    "Diameter\t25 mm",
    "Area\t490.9 mm2",
    "Gauge length\t125",
    "Extensometer gauge\t50",
    "Rate\t0.0067 1/s",
    "Start\t2026-11-21T14:10:03+08:00",
    "Break location\tbar",
    "",
    "Time [s]\tForce [N]\tExtension [mm]",
] + [f"{t:.2f}\t{f:.1f}\t{d:.4f}" for t, f, d in coupler]
write("coupler_tab_english.txt", "\n".join(coupler_lines) + "\n", "utf-8")

# Broken files: each names its fault in the file name.
truncated = cube_text(cube).encode("gbk")
write_bytes = lambda name, b: open(name, "wb").write(b)
cut = truncated.rfind(b",", 0, len(truncated) - 400)  # mid-row, a few rows before the end
write_bytes("broken_truncated_gbk.csv", truncated[:cut + 3])

spliced = cube[:200] + [(t - 12.0, f, d) for t, f, d in cube[200:]]  # two runs pasted together
write("broken_time_backwards.csv", cube_text(spliced), "gbk")

write("broken_unit_kgf.csv", cube_text([(t, f * 101.97, d) for t, f, d in cube], "力(kgf)"), "gbk")

bad = bytearray(cube_text(cube).encode("gbk"))
line_starts = [i + 1 for i, b in enumerate(bad) if b == 0x0A]
at = line_starts[99] + 4  # inside the 101st line
bad[at:at] = b"\xff\x81\x20"  # 0xFF is never a GBK byte; 0x81 0x20 is a lead byte without a trail
write_bytes("broken_gbk_bad_bytes.csv", bytes(bad))
