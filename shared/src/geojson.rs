//! Site boundaries imported from GeoJSON (RFC 7946): what an admin draws
//! in a map tool or receives from a surveyor, in WGS-84, GCJ-02 (AMap,
//! Tencent) or BD-09 (Baidu) — or the corner points copied one by one from a
//! map's coordinate picker. One parser for the CLI and the console.

use crate::place::{Datum, LatLon, SiteBoundary, to_wgs84};

/// Why a GeoJSON text is not a usable site boundary, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message_en}")]
pub struct GeoJsonError {
    pub message_zh: String,
    pub message_en: String,
}

fn err(zh: impl Into<String>, en: impl Into<String>) -> GeoJsonError {
    GeoJsonError { message_zh: zh.into(), message_en: en.into() }
}

/// Parse a GeoJSON `Polygon`, or a `Feature` (or one-feature
/// `FeatureCollection`) holding one, whose coordinates are in `datum`.
/// The first ring is the exterior, the rest holes; GeoJSON's order is
/// `[longitude, latitude]`. The result is validated as a site boundary.
pub fn site_boundary(text: &str, datum: Datum) -> Result<SiteBoundary, GeoJsonError> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| err(format!("GeoJSON 格式错误：{e}"), format!("GeoJSON: {e}")))?;
    let mut geom = &v;
    if geom["type"] == "FeatureCollection" {
        match geom["features"].as_array().map(Vec::as_slice) {
            Some([one]) => geom = one,
            _ => {
                return Err(err(
                    "要素集合中应只有一个要素（现场边界）",
                    "the FeatureCollection must hold exactly one feature (the site boundary)",
                ));
            }
        }
    }
    if geom["type"] == "Feature" {
        geom = &geom["geometry"];
    }
    if geom["type"] != "Polygon" {
        return Err(err("边界必须是 GeoJSON Polygon", "the boundary must be a GeoJSON Polygon"));
    }
    let rings = geom["coordinates"].as_array().ok_or_else(|| err("缺少坐标", "missing coordinates"))?;
    let mut out: Vec<Vec<LatLon>> = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let points = ring.as_array().ok_or_else(|| {
            err(
                format!("第 {} 个环不是坐标数组", r + 1),
                format!("ring {} is not an array of positions", r + 1),
            )
        })?;
        let mut pts = Vec::with_capacity(points.len());
        for (i, p) in points.iter().enumerate() {
            let (Some(lon), Some(lat)) = (p[0].as_f64(), p[1].as_f64()) else {
                return Err(err(
                    format!("第 {} 个环第 {} 个坐标格式错误", r + 1, i + 1),
                    format!("ring {} position {} is malformed", r + 1, i + 1),
                ));
            };
            pts.push(to_wgs84(datum, lat, lon).map_err(|e| {
                err(
                    format!("第 {} 个环第 {} 个坐标无效：{e}", r + 1, i + 1),
                    format!("ring {} position {}: {e}", r + 1, i + 1),
                )
            })?);
        }
        out.push(pts);
    }
    let mut rings = out.into_iter();
    let exterior = rings.next().ok_or_else(|| err("没有外环", "no exterior ring"))?;
    let boundary = SiteBoundary { exterior, holes: rings.collect() };
    boundary
        .validate()
        .map_err(|e| err(format!("现场边界无效：{e}"), format!("site boundary invalid: {e}")))?;
    Ok(boundary)
}

/// A boundary as an admin pastes it: GeoJSON (text starting with `{`), or
/// the corners of the exterior ring as pairs `经度,纬度` — one per line or
/// separated by `;`, as AMap's and Baidu's coordinate pickers copy them.
/// Which number of a pair is the longitude is read from the numbers, never
/// guessed: one above 90 in magnitude is the longitude; a pair where
/// neither is (possible only west of 90°E) must come as GeoJSON.
pub fn site_boundary_text(text: &str, datum: Datum) -> Result<SiteBoundary, GeoJsonError> {
    let text = text.trim();
    if text.starts_with('{') {
        return site_boundary(text, datum);
    }
    let mut exterior = Vec::new();
    for (i, pair) in text.split(['\n', ';', '；']).map(str::trim).filter(|p| !p.is_empty()).enumerate() {
        let nums: Vec<f64> = pair
            .split([',', '，', ' ', '\t'])
            .filter(|n| !n.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| {
                err(
                    format!("第 {} 个角点不是两个数：{pair}", i + 1),
                    format!("corner {} is not two numbers: {pair}", i + 1),
                )
            })?;
        let [a, b] = nums[..] else {
            return Err(err(
                format!("第 {} 个角点应为 经度,纬度：{pair}", i + 1),
                format!("corner {} must be longitude,latitude: {pair}", i + 1),
            ));
        };
        let (lat, lon) = match (a.abs() > 90.0, b.abs() > 90.0) {
            (true, false) => (b, a),
            (false, true) => (a, b),
            _ => {
                return Err(err(
                    format!("第 {} 个角点无法判断经纬度，请改用 GeoJSON：{pair}", i + 1),
                    format!("corner {}: cannot tell longitude from latitude; use GeoJSON: {pair}", i + 1),
                ));
            }
        };
        exterior.push(
            to_wgs84(datum, lat, lon).map_err(|e| {
                err(format!("第 {} 个角点无效：{e}", i + 1), format!("corner {}: {e}", i + 1))
            })?,
        );
    }
    if exterior.len() > 1 && exterior.first() == exterior.last() {
        exterior.pop();
    }
    let boundary = SiteBoundary { exterior, holes: vec![] };
    boundary
        .validate()
        .map_err(|e| err(format!("现场边界无效：{e}"), format!("site boundary invalid: {e}")))?;
    Ok(boundary)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[122.235,40.665],[122.237,40.665],[122.237,40.666],[122.235,40.666],[122.235,40.665]]]}"#;

    #[test]
    fn r9_reads_polygons_features_and_single_feature_collections() {
        let b = site_boundary(SQUARE, Datum::Wgs84).unwrap();
        assert_eq!(b.exterior.len(), 5);
        let feature = format!(r#"{{"type":"Feature","properties":{{}},"geometry":{SQUARE}}}"#);
        assert_eq!(site_boundary(&feature, Datum::Wgs84).unwrap(), b);
        let fc = format!(r#"{{"type":"FeatureCollection","features":[{feature}]}}"#);
        assert_eq!(site_boundary(&fc, Datum::Wgs84).unwrap(), b);
        // The same square drawn on AMap is moved back by GCJ-02's offset (hundreds of metres).
        let g = site_boundary(SQUARE, Datum::Gcj02).unwrap();
        assert_ne!(g, b);
    }

    #[test]
    fn r9_bad_input_says_what_is_wrong_in_both_languages() {
        for (text, zh) in [
            ("{", "GeoJSON 格式错误"),
            (r#"{"type":"Point","coordinates":[1,2]}"#, "Polygon"),
            (r#"{"type":"Polygon","coordinates":[[[122.0,"x"]]]}"#, "坐标格式错误"),
            (r#"{"type":"Polygon","coordinates":[[[500.0,40.0],[1,2],[3,4]]]}"#, "坐标无效"),
            (r#"{"type":"Polygon","coordinates":[]}"#, "没有外环"),
            (r#"{"type":"FeatureCollection","features":[]}"#, "只有一个要素"),
        ] {
            let e = site_boundary(text, Datum::Wgs84).unwrap_err();
            assert!(e.message_zh.contains(zh), "{text}: {}", e.message_zh);
            assert!(!e.message_en.is_empty());
        }
    }

    #[test]
    fn r9_corner_points_from_a_coordinate_picker_make_the_same_site() {
        let g = site_boundary(SQUARE, Datum::Gcj02).unwrap();
        // AMap's picker copies "lng,lat"; one per line or ';'-separated; either order is read.
        for text in [
            "122.235,40.665\n122.237,40.665\n122.237,40.666\n122.235,40.666",
            "122.235,40.665;122.237,40.665;122.237,40.666;122.235,40.666;122.235,40.665",
            "40.665, 122.235\n40.665, 122.237\n40.666, 122.237\n40.666, 122.235\n",
        ] {
            let b = site_boundary_text(text, Datum::Gcj02).unwrap();
            assert_eq!(b.exterior.len(), 4, "{text}");
            for p in &b.exterior {
                assert!(g.exterior.iter().any(|q| q.distance_m(p) < 0.01), "{text}");
            }
        }
        assert_eq!(
            site_boundary_text(SQUARE, Datum::Wgs84).unwrap(),
            site_boundary(SQUARE, Datum::Wgs84).unwrap()
        );
        for (text, zh) in [
            ("122.235", "经度,纬度"),
            ("122.235,abc", "不是两个数"),
            ("80.1,40.6\n80.2,40.6\n80.2,40.7", "无法判断"),
            ("122.235,40.665\n122.237,40.665", "现场边界无效"),
        ] {
            let e = site_boundary_text(text, Datum::Wgs84).unwrap_err();
            assert!(e.message_zh.contains(zh), "{text}: {}", e.message_zh);
        }
    }
}
