//! UTM (transverse Mercator on WGS84), the metric projection the analyses work in.
//!
//! Hand-written because the pure-Rust options are either a C binding (proj) or heavier
//! than the ~60 lines of Krüger's series (Karney 2011, 6th order: sub-millimetre within
//! thousands of km of the central meridian). Tested against PROJ's EPSG:32650 output.

/// A UTM zone (northern or southern hemisphere).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Utm {
    pub zone: u8,
    pub north: bool,
    lon0: f64,
}

const A: f64 = 6_378_137.0;
const F: f64 = 1.0 / 298.257_223_563;
const K0: f64 = 0.9996;
const E0: f64 = 500_000.0;

struct Series {
    a_big: f64,
    alpha: [f64; 6],
    beta: [f64; 6],
    e: f64,
}

fn series() -> &'static Series {
    static S: std::sync::OnceLock<Series> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let n = F / (2.0 - F);
        let (n2, n3, n4, n5, n6) = (n * n, n.powi(3), n.powi(4), n.powi(5), n.powi(6));
        Series {
            a_big: A / (1.0 + n) * (1.0 + n2 / 4.0 + n4 / 64.0 + n6 / 256.0),
            alpha: [
                n / 2.0 - 2.0 * n2 / 3.0 + 5.0 * n3 / 16.0 + 41.0 * n4 / 180.0 - 127.0 * n5 / 288.0
                    + 7891.0 * n6 / 37800.0,
                13.0 * n2 / 48.0 - 3.0 * n3 / 5.0 + 557.0 * n4 / 1440.0 + 281.0 * n5 / 630.0
                    - 1983433.0 * n6 / 1935360.0,
                61.0 * n3 / 240.0 - 103.0 * n4 / 140.0
                    + 15061.0 * n5 / 26880.0
                    + 167603.0 * n6 / 181440.0,
                49561.0 * n4 / 161280.0 - 179.0 * n5 / 168.0 + 6601661.0 * n6 / 7257600.0,
                34729.0 * n5 / 80640.0 - 3418889.0 * n6 / 1995840.0,
                212378941.0 * n6 / 319334400.0,
            ],
            beta: [
                n / 2.0 - 2.0 * n2 / 3.0 + 37.0 * n3 / 96.0 - n4 / 360.0 - 81.0 * n5 / 512.0
                    + 96199.0 * n6 / 604800.0,
                n2 / 48.0 + n3 / 15.0 - 437.0 * n4 / 1440.0 + 46.0 * n5 / 105.0
                    - 1118711.0 * n6 / 3870720.0,
                17.0 * n3 / 480.0 - 37.0 * n4 / 840.0 - 209.0 * n5 / 4480.0 + 5569.0 * n6 / 90720.0,
                4397.0 * n4 / 161280.0 - 11.0 * n5 / 504.0 - 830251.0 * n6 / 7257600.0,
                4583.0 * n5 / 161280.0 - 108847.0 * n6 / 3991680.0,
                20648693.0 * n6 / 638668800.0,
            ],
            e: (F * (2.0 - F)).sqrt(),
        }
    })
}

impl Utm {
    /// The zone containing a WGS84 point (the region's centre).
    pub fn for_lonlat(lon: f64, lat: f64) -> Utm {
        let zone = (((lon + 180.0) / 6.0).floor() as i32).clamp(0, 59) as u8 + 1;
        Utm::new(zone, lat >= 0.0)
    }

    pub fn new(zone: u8, north: bool) -> Utm {
        Utm {
            zone,
            north,
            lon0: zone as f64 * 6.0 - 183.0,
        }
    }

    /// EPSG code (WGS 84 / UTM zone NN N|S).
    pub fn epsg(&self) -> u16 {
        (if self.north { 32600 } else { 32700 }) + self.zone as u16
    }

    pub fn name(&self) -> String {
        format!(
            "WGS 84 / UTM zone {}{}",
            self.zone,
            if self.north { "N" } else { "S" }
        )
    }

    /// WGS84 (lon, lat) → (easting, northing) in metres.
    pub fn forward(&self, lon: f64, lat: f64) -> (f64, f64) {
        let s = series();
        let phi = lat.to_radians();
        let lam = (lon - self.lon0).to_radians();
        let sp = phi.sin();
        let t = (sp.atanh() - s.e * (s.e * sp).atanh()).sinh();
        let (sl, cl) = lam.sin_cos();
        let xi_p = t.atan2(cl);
        let eta_p = (sl / (1.0 + t * t).sqrt()).atanh();
        // ζ = ζ' + Σ α_j sin(2jζ') with ζ' = ξ' + iη', summed by Clenshaw's recurrence
        // (b_j = α_j + 2cos(2ζ')·b_{j+1} − b_{j+2}, the sum is sin(2ζ')·b_1): one sin/cos
        // and one exp instead of four transcendental calls per term (Karney 2011, §7)
        let (s2, c2) = (2.0 * xi_p).sin_cos();
        let e2 = (2.0 * eta_p).exp();
        let (sh2, ch2) = ((e2 - 1.0 / e2) / 2.0, (e2 + 1.0 / e2) / 2.0);
        let (ar, ai) = (2.0 * c2 * ch2, -2.0 * s2 * sh2);
        let (mut b1, mut b2) = ((0.0f64, 0.0f64), (0.0f64, 0.0f64));
        for &a in s.alpha.iter().rev() {
            let b0 = (
                a + ar * b1.0 - ai * b1.1 - b2.0,
                ar * b1.1 + ai * b1.0 - b2.1,
            );
            (b2, b1) = (b1, b0);
        }
        let (sr, si) = (s2 * ch2, c2 * sh2);
        let xi = xi_p + (sr * b1.0 - si * b1.1);
        let eta = eta_p + (sr * b1.1 + si * b1.0);
        let n0 = if self.north { 0.0 } else { 10_000_000.0 };
        (E0 + K0 * s.a_big * eta, n0 + K0 * s.a_big * xi)
    }

    /// (easting, northing) → WGS84 (lon, lat).
    pub fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let s = series();
        let n0 = if self.north { 0.0 } else { 10_000_000.0 };
        let xi = (y - n0) / (K0 * s.a_big);
        let eta = (x - E0) / (K0 * s.a_big);
        let (mut xi_p, mut eta_p) = (xi, eta);
        for (j, b) in s.beta.iter().enumerate() {
            let k = 2.0 * (j as f64 + 1.0);
            xi_p -= b * (k * xi).sin() * (k * eta).cosh();
            eta_p -= b * (k * xi).cos() * (k * eta).sinh();
        }
        let tau_p = xi_p.sin() / (eta_p.sinh().powi(2) + xi_p.cos().powi(2)).sqrt();
        let lam = eta_p.sinh().atan2(xi_p.cos());
        // Newton's method for the geographic tan(lat) from the conformal one
        let e2 = s.e * s.e;
        let mut tau = tau_p;
        for _ in 0..8 {
            let sig = (s.e * (s.e * tau / (1.0 + tau * tau).sqrt()).atanh()).sinh();
            let tau_i = tau * (1.0 + sig * sig).sqrt() - sig * (1.0 + tau * tau).sqrt();
            let d = (tau_p - tau_i) / (1.0 + tau_i * tau_i).sqrt() * (1.0 + (1.0 - e2) * tau * tau)
                / ((1.0 - e2) * (1.0 + tau * tau).sqrt());
            tau += d;
            if d.abs() < 1e-14 {
                break;
            }
        }
        (self.lon0 + lam.to_degrees(), tau.atan().to_degrees())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proj_reference_vectors() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/utm50_vectors.csv"
        ))
        .unwrap();
        let utm = Utm::new(50, true);
        let mut n = 0;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("lon"))
        {
            let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
            let (x, y) = utm.forward(v[0], v[1]);
            assert!(
                (x - v[2]).abs() < 1e-3 && (y - v[3]).abs() < 1e-3,
                "{line}: got {x}, {y}"
            );
            let (lon, lat) = utm.inverse(v[2], v[3]);
            assert!(
                (lon - v[0]).abs() < 1e-9 && (lat - v[1]).abs() < 1e-9,
                "{line}: inverse {lon}, {lat}"
            );
            n += 1;
        }
        assert!(n >= 45);
        assert_eq!(Utm::for_lonlat(117.1, 36.6).epsg(), 32650);
    }

    /// Clenshaw's sum is the series summed term by term, to well under a micrometre,
    /// across a zone (±3.5° of the central meridian) from the equator to 80° N and S.
    #[test]
    fn clenshaw_sum_matches_the_series_term_by_term() {
        let direct = |u: &Utm, lon: f64, lat: f64| {
            let s = series();
            let (phi, lam) = (lat.to_radians(), (lon - u.lon0).to_radians());
            let sp = phi.sin();
            let t = (sp.atanh() - s.e * (s.e * sp).atanh()).sinh();
            let xi_p = t.atan2(lam.cos());
            let eta_p = (lam.sin() / (1.0 + t * t).sqrt()).atanh();
            let (mut xi, mut eta) = (xi_p, eta_p);
            for (j, a) in s.alpha.iter().enumerate() {
                let k = 2.0 * (j as f64 + 1.0);
                xi += a * (k * xi_p).sin() * (k * eta_p).cosh();
                eta += a * (k * xi_p).cos() * (k * eta_p).sinh();
            }
            let n0 = if u.north { 0.0 } else { 10_000_000.0 };
            (E0 + K0 * s.a_big * eta, n0 + K0 * s.a_big * xi)
        };
        let mut worst = 0f64;
        for north in [true, false] {
            let u = Utm::new(50, north);
            for i in 0..=70 {
                for j in 0..=80 {
                    let lon = u.lon0 - 3.5 + i as f64 * 0.1;
                    let lat = (j as f64) * if north { 1.0 } else { -1.0 };
                    let (a, b) = (u.forward(lon, lat), direct(&u, lon, lat));
                    worst = worst.max((a.0 - b.0).abs()).max((a.1 - b.1).abs());
                }
            }
        }
        assert!(worst < 1e-6, "worst difference {worst} m");
    }
}
