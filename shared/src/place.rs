//! Place: WGS-84 positions, Chinese map datums, site boundaries and co-presence.
//!
//! Positions are stored as integer degrees x 1e7 (about 1 cm), which keeps the
//! canonical record format free of floats. Geometry is done in f64 on a local
//! tangent plane around the site: at construction-site scale (a few km) the
//! error of that projection is far below GPS accuracy.
//!
//! Site boundaries drawn on Chinese web maps arrive in GCJ-02 (AMap, Tencent)
//! or BD-09 (Baidu); they are converted to WGS-84 once, at the edge, and
//! everything inside the system is WGS-84 (what GNSS receivers report).

use geo::{Contains, Coord, Distance, Euclidean, Haversine, LineString, Point, Polygon};
use serde::{Deserialize, Serialize};

const E7: f64 = 1e7;
/// Mean Earth radius used for the local plane (GRS80 mean radius, as `geo`'s Haversine).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS-84 position in degrees x 1e7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LatLon {
    pub lat_e7: i32,
    pub lon_e7: i32,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum PlaceError {
    #[error("latitude {0} is outside -90..90")]
    Latitude(f64),
    #[error("longitude {0} is outside -180..180")]
    Longitude(f64),
    #[error("a boundary ring needs at least 3 distinct points, got {0}")]
    TooFewPoints(usize),
    #[error("boundary is not a simple polygon: {0}")]
    NotSimple(String),
}

impl LatLon {
    pub fn from_degrees(lat: f64, lon: f64) -> Result<LatLon, PlaceError> {
        if !(-90.0..=90.0).contains(&lat) || lat.is_nan() {
            return Err(PlaceError::Latitude(lat));
        }
        if !(-180.0..=180.0).contains(&lon) || lon.is_nan() {
            return Err(PlaceError::Longitude(lon));
        }
        Ok(LatLon { lat_e7: (lat * E7).round() as i32, lon_e7: (lon * E7).round() as i32 })
    }
    pub fn lat(&self) -> f64 {
        f64::from(self.lat_e7) / E7
    }
    pub fn lon(&self) -> f64 {
        f64::from(self.lon_e7) / E7
    }
    /// Great-circle distance in metres.
    pub fn distance_m(&self, other: &LatLon) -> f64 {
        Haversine.distance(Point::new(self.lon(), self.lat()), Point::new(other.lon(), other.lat()))
    }
}

/// The datum a coordinate was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Datum {
    /// GNSS, OpenStreetMap, Tianditu (CGCS2000 differs from WGS-84 by centimetres).
    Wgs84,
    /// "Mars coordinates": AMap (Gaode), Tencent, Google China.
    Gcj02,
    /// Baidu Maps.
    Bd09,
}

// GCJ-02 uses the Krasovsky 1940 ellipsoid parameters in its published form.
const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

/// GCJ-02 applies only inside (roughly) mainland China.
fn out_of_china(lat: f64, lon: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn gcj_delta(lat: f64, lon: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let x = lon - 105.0;
    let y = lat - 35.0;
    let mut dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    dlat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    dlon += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    (dlat, dlon)
}

/// WGS-84 -> GCJ-02 (the published forward transform).
pub fn wgs84_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    if out_of_china(lat, lon) {
        return (lat, lon);
    }
    let (dlat, dlon) = gcj_delta(lat, lon);
    (lat + dlat, lon + dlon)
}

/// GCJ-02 -> WGS-84 by fixed-point iteration on the forward transform
/// (converges to below 1e-9 degrees, i.e. sub-millimetre, in a few steps).
pub fn gcj02_to_wgs84(lat: f64, lon: f64) -> (f64, f64) {
    if out_of_china(lat, lon) {
        return (lat, lon);
    }
    let (mut wlat, mut wlon) = (lat, lon);
    for _ in 0..30 {
        let (glat, glon) = wgs84_to_gcj02(wlat, wlon);
        let (elat, elon) = (glat - lat, glon - lon);
        wlat -= elat;
        wlon -= elon;
        if elat.abs() < 1e-10 && elon.abs() < 1e-10 {
            break;
        }
    }
    (wlat, wlon)
}

const BD_X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;

/// GCJ-02 -> BD-09 (Baidu's published transform).
pub fn gcj02_to_bd09(lat: f64, lon: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * BD_X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * BD_X_PI).cos();
    (z * theta.sin() + 0.006, z * theta.cos() + 0.0065)
}

/// BD-09 -> GCJ-02: the usual closed-form inverse, refined by iteration.
pub fn bd09_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    let x = lon - 0.0065;
    let y = lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * BD_X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * BD_X_PI).cos();
    let (mut glat, mut glon) = (z * theta.sin(), z * theta.cos());
    for _ in 0..10 {
        let (blat, blon) = gcj02_to_bd09(glat, glon);
        let (elat, elon) = (blat - lat, blon - lon);
        glat -= elat;
        glon -= elon;
        if elat.abs() < 1e-11 && elon.abs() < 1e-11 {
            break;
        }
    }
    (glat, glon)
}

/// Convert a coordinate in `datum` to WGS-84.
pub fn to_wgs84(datum: Datum, lat: f64, lon: f64) -> Result<LatLon, PlaceError> {
    let (lat, lon) = match datum {
        Datum::Wgs84 => (lat, lon),
        Datum::Gcj02 => gcj02_to_wgs84(lat, lon),
        Datum::Bd09 => {
            let (g_lat, g_lon) = bd09_to_gcj02(lat, lon);
            gcj02_to_wgs84(g_lat, g_lon)
        }
    };
    LatLon::from_degrees(lat, lon)
}

/// Where a position came from. A manual position is weak evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FixProvider {
    /// Satellite receiver of the phone (Android "gps", iOS with GNSS).
    Gnss,
    /// OS fused provider (satellites + Wi-Fi + cell).
    Fused,
    /// Network (Wi-Fi/cell) only.
    Network,
    /// External NMEA receiver on serial/USB (desktop).
    Nmea,
}

/// One position fix with the evidence needed to judge it (R7-R9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Fix {
    pub pos: LatLon,
    /// Horizontal accuracy radius in centimetres, as the provider reports it
    /// (Android: 68% confidence).
    pub accuracy_cm: u32,
    pub provider: FixProvider,
    /// Device monotonic clock (ms since boot) when the fix was taken.
    pub mono_ms: u64,
    /// UTC time from the satellites, when the fix carries it (ms since epoch).
    pub gnss_time_ms: Option<i64>,
    /// Satellites used in the fix, when known.
    pub satellites: Option<u8>,
    /// The OS flagged the fix as coming from a mock-location provider.
    pub mock: bool,
}

impl Fix {
    pub fn accuracy_m(&self) -> f64 {
        f64::from(self.accuracy_cm) / 100.0
    }
}

/// The fix that best represents where a record was made: the most accurate
/// one not flagged as mocked (falling back to mocked ones only if that is all
/// there is, so the flag still shows up in the verdict).
pub fn best_fix(fixes: &[Fix]) -> Option<&Fix> {
    fixes
        .iter()
        .filter(|f| !f.mock)
        .min_by_key(|f| f.accuracy_cm)
        .or_else(|| fixes.iter().min_by_key(|f| f.accuracy_cm))
}

/// A site boundary (WGS-84): one outer ring and optional holes.
/// Rings are open or closed; either is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteBoundary {
    pub exterior: Vec<LatLon>,
    #[serde(default)]
    pub holes: Vec<Vec<LatLon>>,
}

/// Where a fix lies relative to a site boundary, given its accuracy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Containment {
    /// The whole uncertainty circle is inside the site.
    Inside { margin_m: f64 },
    /// The whole uncertainty circle is outside the site.
    Outside { distance_m: f64 },
    /// The circle crosses the boundary: cannot tell.
    Uncertain { edge_distance_m: f64, inside_centre: bool },
}

impl SiteBoundary {
    pub fn validate(&self) -> Result<(), PlaceError> {
        for ring in std::iter::once(&self.exterior).chain(self.holes.iter()) {
            let mut pts: Vec<&LatLon> = ring.iter().collect();
            if pts.len() > 1 && pts.first() == pts.last() {
                pts.pop();
            }
            let mut distinct = pts.clone();
            distinct.sort_by_key(|p| (p.lat_e7, p.lon_e7));
            distinct.dedup();
            if distinct.len() < 3 {
                return Err(PlaceError::TooFewPoints(distinct.len()));
            }
        }
        let (poly, _) = self.local_polygon();
        use geo::Area;
        if poly.unsigned_area() < 1.0 {
            return Err(PlaceError::NotSimple("area below 1 m²".into()));
        }
        Ok(())
    }

    /// The centroid of the exterior ring's vertices: origin of the local plane.
    fn origin(&self) -> (f64, f64) {
        let n = self.exterior.len().max(1) as f64;
        let lat = self.exterior.iter().map(LatLon::lat).sum::<f64>() / n;
        let lon = self.exterior.iter().map(LatLon::lon).sum::<f64>() / n;
        (lat, lon)
    }

    fn project(origin: (f64, f64), p: &LatLon) -> Coord<f64> {
        let k = std::f64::consts::PI / 180.0 * EARTH_RADIUS_M;
        Coord { x: (p.lon() - origin.1) * k * (origin.0.to_radians()).cos(), y: (p.lat() - origin.0) * k }
    }

    fn local_polygon(&self) -> (Polygon<f64>, (f64, f64)) {
        let o = self.origin();
        let ring = |r: &Vec<LatLon>| -> LineString<f64> {
            LineString::from(r.iter().map(|p| Self::project(o, p)).collect::<Vec<_>>())
        };
        (Polygon::new(ring(&self.exterior), self.holes.iter().map(ring).collect()), o)
    }

    /// Locate a fix against the boundary. `sigma` scales the reported
    /// accuracy radius (1.0 = the provider's 68% radius; 2.0 ~ 95%).
    pub fn locate(&self, fix: &Fix, sigma: f64) -> Containment {
        self.locate_point(&fix.pos, fix.accuracy_m() * sigma)
    }

    pub fn locate_point(&self, pos: &LatLon, radius_m: f64) -> Containment {
        let (poly, o) = self.local_polygon();
        let c = Self::project(o, pos);
        let pt = Point::from(c);
        let inside = poly.contains(&pt);
        let edge = std::iter::once(poly.exterior())
            .chain(poly.interiors().iter())
            .map(|ring| Euclidean.distance(&pt, ring))
            .fold(f64::INFINITY, f64::min);
        if edge > radius_m {
            if inside {
                Containment::Inside { margin_m: edge - radius_m }
            } else {
                Containment::Outside { distance_m: edge }
            }
        } else {
            Containment::Uncertain { edge_distance_m: edge, inside_centre: inside }
        }
    }
}

/// Whether two fixes show the sampler and the witness in one place (R8, R9).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum CoPresence {
    /// Provably within `max_m` of each other.
    Together { distance_m: f64 },
    /// Provably farther apart than `max_m`.
    Apart { distance_m: f64 },
    /// The accuracies are too poor to tell.
    Uncertain { distance_m: f64 },
}

pub fn co_presence(a: &Fix, b: &Fix, max_m: f64, sigma: f64) -> CoPresence {
    let d = a.pos.distance_m(&b.pos);
    let u = sigma * (a.accuracy_m() + b.accuracy_m());
    if d + u <= max_m {
        CoPresence::Together { distance_m: d }
    } else if d - u > max_m {
        CoPresence::Apart { distance_m: d }
    } else {
        CoPresence::Uncertain { distance_m: d }
    }
}

/// A jump between consecutive fixes faster than anyone moves on a site is a
/// sign of a mocked or replayed position. Returns the fastest implied speed
/// (m/s) between consecutive fixes beyond their accuracies, if any exceeds
/// `max_speed_mps`.
pub fn implausible_jump(fixes: &[Fix], max_speed_mps: f64) -> Option<f64> {
    let mut sorted: Vec<&Fix> = fixes.iter().collect();
    sorted.sort_by_key(|f| f.mono_ms);
    let mut worst: Option<f64> = None;
    for w in sorted.windows(2) {
        let dt = (w[1].mono_ms.saturating_sub(w[0].mono_ms)) as f64 / 1000.0;
        let d = (w[0].pos.distance_m(&w[1].pos) - w[0].accuracy_m() - w[1].accuracy_m()).max(0.0);
        let speed = if dt <= 0.0 { if d > 0.0 { f64::INFINITY } else { 0.0 } } else { d / dt };
        if speed > max_speed_mps && worst.is_none_or(|x| speed > x) {
            worst = Some(speed);
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(lat: f64, lon: f64, acc_m: f64) -> Fix {
        Fix {
            pos: LatLon::from_degrees(lat, lon).unwrap(),
            accuracy_cm: (acc_m * 100.0) as u32,
            provider: FixProvider::Gnss,
            mono_ms: 0,
            gnss_time_ms: None,
            satellites: Some(9),
            mock: false,
        }
    }

    /// A 200 m x 200 m square site in Yingkou.
    pub(crate) fn square_site() -> SiteBoundary {
        let (lat0, lon0): (f64, f64) = (40.6650, 122.2350);
        let dlat = 200.0 / 111_195.0;
        let dlon = 200.0 / (111_195.0 * lat0.to_radians().cos());
        let p = |a: f64, b: f64| LatLon::from_degrees(a, b).unwrap();
        SiteBoundary {
            exterior: vec![
                p(lat0, lon0),
                p(lat0, lon0 + dlon),
                p(lat0 + dlat, lon0 + dlon),
                p(lat0 + dlat, lon0),
            ],
            holes: vec![],
        }
    }

    #[test]
    fn gcj02_known_point() {
        // Tiananmen, WGS-84 (39.908823, 116.397470) -> GCJ-02 about (39.910225, 116.403715),
        // a shift of roughly 550 m, as every Chinese map shows.
        let (glat, glon) = wgs84_to_gcj02(39.908823, 116.397470);
        assert!((glat - 39.910225).abs() < 2e-5, "{glat}");
        assert!((glon - 116.403715).abs() < 2e-5, "{glon}");
        let back = gcj02_to_wgs84(glat, glon);
        assert!((back.0 - 39.908823).abs() < 1e-8 && (back.1 - 116.397470).abs() < 1e-8);
    }

    #[test]
    fn bd09_round_trip_and_offset() {
        let (blat, blon) = gcj02_to_bd09(40.6650, 122.2350);
        // Baidu's offset is about 0.006 degrees north and east.
        assert!((blat - 40.6650 - 0.006).abs() < 0.002 && (blon - 122.2350 - 0.0065).abs() < 0.002);
        let (glat, glon) = bd09_to_gcj02(blat, blon);
        assert!((glat - 40.6650).abs() < 1e-9 && (glon - 122.2350).abs() < 1e-9);
        let w = to_wgs84(Datum::Bd09, blat, blon).unwrap();
        let expect = to_wgs84(Datum::Gcj02, 40.6650, 122.2350).unwrap();
        assert!((w.lat_e7 - expect.lat_e7).abs() <= 1 && (w.lon_e7 - expect.lon_e7).abs() <= 1);
    }

    #[test]
    fn outside_china_is_untouched() {
        assert_eq!(wgs84_to_gcj02(48.85, 2.35), (48.85, 2.35));
    }

    #[test]
    fn r9_containment_takes_accuracy_into_account() {
        let site = square_site();
        let centre: (f64, f64) =
            (40.6650 + 100.0 / 111_195.0, 122.2350 + 100.0 / (111_195.0 * 40.665f64.to_radians().cos()));
        assert!(
            matches!(site.locate(&fix(centre.0, centre.1, 5.0), 2.0), Containment::Inside { margin_m } if (margin_m - 90.0).abs() < 1.0)
        );
        // 30 m south of the southern edge.
        let south = 40.6650 - 30.0 / 111_195.0;
        assert!(
            matches!(site.locate(&fix(south, centre.1, 5.0), 2.0), Containment::Outside { distance_m } if (distance_m - 30.0).abs() < 0.5)
        );
        // Same point, but accuracy 20 m x 2 sigma reaches inside.
        assert!(matches!(
            site.locate(&fix(south, centre.1, 20.0), 2.0),
            Containment::Uncertain { inside_centre: false, .. }
        ));
    }

    #[test]
    fn r8_co_presence() {
        let a = fix(40.6660, 122.2360, 5.0);
        let near = fix(40.6660 + 10.0 / 111_195.0, 122.2360, 5.0);
        let far = fix(40.6660 + 2000.0 / 111_195.0, 122.2360, 5.0);
        assert!(matches!(co_presence(&a, &near, 50.0, 2.0), CoPresence::Together { .. }));
        assert!(matches!(co_presence(&a, &far, 50.0, 2.0), CoPresence::Apart { .. }));
        let blurry = fix(40.6660 + 40.0 / 111_195.0, 122.2360, 30.0);
        assert!(matches!(co_presence(&a, &blurry, 50.0, 2.0), CoPresence::Uncertain { .. }));
    }

    #[test]
    fn r9_jumping_track_is_flagged() {
        let mut a = fix(40.6660, 122.2360, 5.0);
        let mut b = fix(40.6660 + 5000.0 / 111_195.0, 122.2360, 5.0);
        a.mono_ms = 1_000;
        b.mono_ms = 11_000;
        assert!(implausible_jump(&[a.clone(), b.clone()], 15.0).unwrap() > 400.0);
        b.pos = LatLon::from_degrees(40.6660 + 20.0 / 111_195.0, 122.2360).unwrap();
        assert_eq!(implausible_jump(&[a, b], 15.0), None);
    }

    #[test]
    fn boundary_validation() {
        let mut s = square_site();
        assert!(s.validate().is_ok());
        s.exterior.truncate(2);
        assert!(matches!(s.validate(), Err(PlaceError::TooFewPoints(2))));
    }
}
