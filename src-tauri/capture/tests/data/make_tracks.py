#!/usr/bin/env python3
"""Writes the GPS test tracks in this folder. No receiver is attached to the
development machines, so these are synthetic recordings in exactly the form a
receiver (u-blox style, GN talker, RMC/GGA/GSA/GST each second) or a phone's
location API (custody-core Fix JSON lines) produces. Deterministic: running it
again gives the same bytes.

  site-walk.nmea   12 s at the fixture site in Yingkou, walking ~1 m/s; GST
                   accuracy 1.8-2.6 m; first epoch still without a fix (cold start)
  site-hdop.nmea   same place, receiver without GST: accuracy from HDOP
  jump.nmea        a fix 30 km away in the middle of the track (a mock app
                   switched on): the collector must report the implausible jump
  simulator.nmea   receiver in simulator mode (GGA quality 8, RMC mode S)
  mocked.jsonl     phone fixes, three flagged mock by the OS
"""
import json, math, os

HERE = os.path.dirname(os.path.abspath(__file__))
LAT0, LON0 = 40.6650, 122.2350  # south-west corner of the fixture site (custody-core fixtures)

def cs(s):
    c = 0
    for b in s.encode():
        c ^= b
    return f"${s}*{c:02X}"

def dm(value, deg_digits):
    v = abs(value)
    d = int(v)
    m = (v - d) * 60
    return f"{d:0{deg_digits}d}{m:07.4f}"

def epoch(t, lat, lon, sigma=None, hdop=0.9, quality=1, mode="A", valid="A", talker="GN"):
    hh, mm, ss = 2, 30 + t // 60, t % 60
    tm = f"{hh:02d}{mm:02d}{ss:02d}.00"
    la, lo = dm(lat, 2), dm(lon, 3)
    out = [
        cs(f"{talker}RMC,{tm},{valid},{la},N,{lo},E,1.9,87.0,241125,,,{mode},V"),
        cs(f"{talker}GGA,{tm},{la},N,{lo},E,{quality},14,{hdop:.1f},12.3,M,8.9,M,,"),
        cs(f"{talker}GSA,A,3,02,05,10,12,15,18,23,25,,,,,1.6,{hdop:.1f},1.2,1"),
    ]
    if sigma is not None:
        out.append(cs(f"{talker}GST,{tm},3.1,2.0,1.5,45.0,{sigma[0]:.1f},{sigma[1]:.1f},3.0"))
    return out

def north_east(n, e):
    return LAT0 + n / 111195.0, LON0 + e / (111195.0 * math.cos(math.radians(LAT0)))

def write(name, lines):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        for l in lines:
            f.write(l + "\r\n")

walk = []
walk += [cs("GNRMC,023000.00,V,,,,,,,241125,,,N,V"), cs("GNGGA,023000.00,,,,,0,00,99.9,,,,,,")]
for t in range(1, 13):
    lat, lon = north_east(60 + t * 0.8, 80 + t * 0.6)
    walk += epoch(t, lat, lon, sigma=(1.2 + 0.05 * t, 1.4 + 0.06 * t))
    walk.append(cs("GPTXT,01,01,02,ANTSTATUS=OK"))
write("site-walk.nmea", walk)

hd = []
for t in range(1, 8):
    lat, lon = north_east(60, 80)
    hd += epoch(t, lat, lon, sigma=None, hdop=1.1)
write("site-hdop.nmea", hd)

jump = []
for t in range(1, 10):
    n, e = (60, 80) if t != 5 else (30000, 80)
    lat, lon = north_east(n, e)
    jump += epoch(t, lat, lon, sigma=(1.5, 1.5))
write("jump.nmea", jump)

sim = []
for t in range(1, 6):
    lat, lon = north_east(60, 80)
    sim += epoch(t, lat, lon, sigma=(0.5, 0.5), quality=8, mode="S")
write("simulator.nmea", sim)

with open(os.path.join(HERE, "mocked.jsonl"), "w") as f:
    f.write("# phone fixes (custody-core Fix as JSON); fixes 3-5 flagged mock by the OS\n")
    for i in range(6):
        lat, lon = north_east(60 + i, 80)
        fix = {
            "pos": {"lat_e7": round(lat * 1e7), "lon_e7": round(lon * 1e7)},
            "accuracy_cm": 450 + 10 * i,
            "provider": "fused",
            "mono_ms": 100000 + 1000 * i,
            "gnss_time_ms": None,
            "satellites": None,
            "mock": 2 <= i <= 4,
        }
        f.write(json.dumps(fix) + "\n")
