//! Web Mercator (EPSG:3857) tile math, XYZ scheme (y grows southward). Knows nothing of
//! drawing or archives. Latitudes are clamped at ±85.0511287798066°.

use std::f64::consts::PI;

/// Radius of the Web Mercator sphere.
pub const R: f64 = 6_378_137.0;
/// The Web Mercator latitude limit.
pub const MAX_LAT: f64 = 85.051_128_779_806_6;

/// A tile address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl Tile {
    pub fn new(x: u32, y: u32, z: u8) -> Tile {
        Tile { z, x, y }
    }

    /// Number of tiles along an axis at zoom z.
    pub fn n(z: u8) -> u32 {
        1u32 << z
    }

    /// Upper-left corner (lon, lat).
    pub fn ul(&self) -> (f64, f64) {
        let n = Tile::n(self.z) as f64;
        let lon = self.x as f64 / n * 360.0 - 180.0;
        let lat = (PI * (1.0 - 2.0 * self.y as f64 / n))
            .sinh()
            .atan()
            .to_degrees();
        (lon, lat)
    }

    /// Bounds (west, south, east, north) in degrees.
    pub fn bounds(&self) -> [f64; 4] {
        let (w, n) = self.ul();
        let (e, s) = Tile::new(self.x + 1, self.y + 1, self.z).ul();
        [w, s, e, n]
    }

    /// Bounds in EPSG:3857 metres (west, south, east, north).
    pub fn xy_bounds(&self) -> [f64; 4] {
        let size = 2.0 * PI * R / Tile::n(self.z) as f64;
        let w = -PI * R + self.x as f64 * size;
        let n = PI * R - self.y as f64 * size;
        [w, n - size, w + size, n]
    }

    /// The MBTiles (TMS) row of this tile.
    pub fn tms_y(&self) -> u32 {
        Tile::n(self.z) - 1 - self.y
    }

    pub fn parent(&self) -> Option<Tile> {
        (self.z > 0).then(|| Tile::new(self.x / 2, self.y / 2, self.z - 1))
    }

    /// The four tiles of the zoom below covering this one: (2x, 2y), (2x + 1, 2y),
    /// (2x, 2y + 1), (2x + 1, 2y + 1).
    pub fn children(&self) -> [Tile; 4] {
        let (x, y) = (2 * self.x, 2 * self.y);
        [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)].map(|(x, y)| Tile::new(x, y, self.z + 1))
    }

    pub fn quadkey(&self) -> String {
        (1..=self.z)
            .rev()
            .map(|i| {
                let mask = 1 << (i - 1);
                let d = u8::from(self.x & mask != 0) + 2 * u8::from(self.y & mask != 0);
                (b'0' + d) as char
            })
            .collect()
    }
}

/// Clamp a latitude to the Web Mercator limit.
pub fn clamp_lat(lat: f64) -> f64 {
    lat.clamp(-MAX_LAT, MAX_LAT)
}

/// WGS84 lon/lat to EPSG:3857 metres (no clamping: ±90° give ±∞ as in mercantile).
pub fn xy(lon: f64, lat: f64) -> (f64, f64) {
    let x = R * lon.to_radians();
    let y = if lat <= -90.0 {
        f64::NEG_INFINITY
    } else if lat >= 90.0 {
        f64::INFINITY
    } else {
        R * (PI / 4.0 + lat.to_radians() / 2.0).tan().ln()
    };
    (x, y)
}

/// EPSG:3857 metres to lon/lat.
pub fn lnglat(x: f64, y: f64) -> (f64, f64) {
    (
        (x / R).to_degrees(),
        (2.0 * (y / R).exp().atan() - PI / 2.0).to_degrees(),
    )
}

/// Fractional global tile coordinates of a point at zoom z (clamped latitude).
pub fn fractional(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let n = Tile::n(z) as f64;
    let (x, y) = world(lon, lat);
    (x * n, y * n)
}

/// Web Mercator position as fractions of the world (x east from 180°W, y south from
/// 85.0511°N): `fractional` at zoom 0.
pub fn world(lon: f64, lat: f64) -> (f64, f64) {
    let lat = clamp_lat(lat).to_radians();
    (
        (lon + 180.0) / 360.0,
        (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0,
    )
}

/// The tile containing a point (mercantile's `tile`).
pub fn tile(lon: f64, lat: f64, z: u8) -> Tile {
    let n = Tile::n(z);
    let (x, y) = fractional(lon, lat, z);
    let clampi = |v: f64| (v.floor().max(0.0) as u64).min(n as u64 - 1) as u32;
    Tile::new(clampi(x), clampi(y), z)
}

/// Global pixel position of a point at zoom z for tiles of `size` pixels.
pub fn pixel(lon: f64, lat: f64, z: u8, size: u32) -> (f64, f64) {
    let (x, y) = fractional(lon, lat, z);
    (x * size as f64, y * size as f64)
}

/// Lon/lat of a global pixel position at zoom z.
pub fn unpixel(px: f64, py: f64, z: u8, size: u32) -> (f64, f64) {
    let n = Tile::n(z) as f64 * size as f64;
    let lon = px / n * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * py / n)).sinh().atan().to_degrees();
    (lon, lat)
}

/// Every tile at zoom z intersecting a bbox (west, south, east, north), row by row.
pub fn tiles_in(bbox: [f64; 4], z: u8) -> impl Iterator<Item = Tile> {
    let a = tile(bbox[0], bbox[3], z);
    // a bbox edge exactly on a tile edge does not pull in the next tile (mercantile)
    let eps = 1e-9;
    let b = tile(bbox[2] - eps, bbox[1] + eps, z);
    (a.y..=b.y).flat_map(move |y| (a.x..=b.x).map(move |x| Tile::new(x, y, z)))
}

/// Number of tiles at zoom z intersecting a bbox.
pub fn count_in(bbox: [f64; 4], z: u8) -> u64 {
    let a = tile(bbox[0], bbox[3], z);
    let b = tile(bbox[2] - 1e-9, bbox[1] + 1e-9, z);
    (b.x - a.x + 1) as u64 * (b.y - a.y + 1) as u64
}

/// The smallest tile containing a bbox (mercantile's `bounding_tile`).
pub fn bounding_tile(bbox: [f64; 4]) -> Tile {
    let eps = 1e-14;
    let a = tile(bbox[0] + eps, bbox[3] - eps, 28);
    let b = tile(bbox[2] - eps, bbox[1] + eps, 28);
    let mut z = 28u8;
    let (mut ax, mut ay, mut bx, mut by) = (a.x, a.y, b.x, b.y);
    while z > 0 && (ax != bx || ay != by) {
        ax /= 2;
        ay /= 2;
        bx /= 2;
        by /= 2;
        z -= 1;
    }
    Tile::new(ax, ay, z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert_eq!(tile(20.6852, 40.1222, 9), Tile::new(285, 193, 9));
        let b = Tile::new(486, 332, 10).bounds();
        for (g, w) in b
            .iter()
            .zip([-9.140625, 53.12040528310657, -8.7890625, 53.33087298301705])
        {
            assert!((g - w).abs() < 1e-9);
        }
        assert_eq!(Tile::new(486, 332, 10).quadkey(), "0313102310");
        assert_eq!(Tile::new(3, 1, 2).tms_y(), 2);
    }
}
