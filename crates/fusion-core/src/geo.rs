//! Geodesy on a sphere and a latitude-band grid whose neighbour search is exact.
//!
//! The grid is the geo part of the blocking index. Bands are at least the search radius tall;
//! each band is cut into longitude cells at least as wide as the widest longitude span a circle
//! of the radius can have inside that band (`asin(sin δ / cos φ)`), so every pair within the
//! radius sits in the same or adjacent bands and in neighbouring cells. Cells wrap around the
//! antimeridian and bands touching a pole are a single cell.

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Relative slack added to every cell size so rounding never puts a true pair two cells apart.
const SLACK: f64 = 1e-6;

/// Great-circle distance in metres (haversine).
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp * 0.5).sin().powi(2) + p1.cos() * p2.cos() * (dl * 0.5).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.min(1.0).sqrt().asin()
}

/// Whether two positions are within `radius_m` metres (great circle). Pairs whose latitude gap
/// alone exceeds the radius are refused without trigonometry (the distance is at least
/// `R·|Δφ|`; the test keeps a margin so it never refuses a pair haversine would accept).
/// Blocking gates, the brute-force reference and scoring all use this one test.
pub fn within_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64, radius_m: f64) -> bool {
    let floor = (lat2 - lat1).abs().to_radians() * EARTH_RADIUS_M;
    if floor > radius_m * (1.0 + 1e-9) + 1e-9 {
        return false;
    }
    haversine_m(lat1, lon1, lat2, lon2) <= radius_m
}

/// Mean position of points, through 3-D unit vectors (correct across the antimeridian).
pub fn centroid(points: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    let (mut x, mut y, mut z, mut n) = (0.0, 0.0, 0.0, 0usize);
    for (lat, lon) in points {
        let (p, l) = (lat.to_radians(), lon.to_radians());
        x += p.cos() * l.cos();
        y += p.cos() * l.sin();
        z += p.sin();
        n += 1;
    }
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let hyp = (x * x + y * y).sqrt();
    (z.atan2(hyp).to_degrees(), y.atan2(x).to_degrees())
}

/// Longitude layout of one latitude band.
#[derive(Debug, Clone, Copy)]
struct Band {
    /// Number of longitude cells (1 when the band touches a polar cap of the radius).
    cells: i64,
    /// Cell width, degrees.
    width: f64,
    /// Largest longitude difference, degrees, between a point of this band and any point within
    /// the radius of it.
    reach: f64,
}

/// The latitude-band grid for one search radius.
#[derive(Debug, Clone)]
pub struct GeoGrid {
    /// Angular radius, radians.
    delta: f64,
    /// Band height, degrees.
    band_height: f64,
    bands: i64,
    /// Precomputed layouts of bands `first_cached ..` (see [`GeoGrid::cache_bands`]).
    first_cached: i64,
    cached: Vec<Band>,
}

impl GeoGrid {
    /// A grid for neighbour searches within `radius_m` metres (must be > 0).
    pub fn new(radius_m: f64) -> Self {
        let delta = (radius_m / EARTH_RADIUS_M).min(std::f64::consts::PI);
        let band_height = (delta.to_degrees() * (1.0 + SLACK)).min(180.0);
        let bands = (180.0 / band_height).ceil().max(1.0) as i64;
        Self {
            delta,
            band_height,
            bands,
            first_cached: 0,
            cached: Vec::new(),
        }
    }

    /// Precomputes the layout of every band that latitudes in `[lat_min, lat_max]` and their
    /// neighbours use, so cell lookups need no trigonometry.
    pub fn cache_bands(&mut self, lat_min: f64, lat_max: f64) {
        if lat_min.is_nan() || lat_max.is_nan() || lat_min > lat_max {
            return;
        }
        let first = (self.band_of(lat_min) - 1).max(0);
        let last = (self.band_of(lat_max) + 1).min(self.bands - 1);
        self.first_cached = first;
        self.cached = (first..=last).map(|b| self.layout(b)).collect();
    }

    /// Band height in degrees of latitude.
    pub fn band_height(&self) -> f64 {
        self.band_height
    }

    /// Band index of a latitude.
    pub fn band_of(&self, lat: f64) -> i64 {
        (((lat + 90.0) / self.band_height).floor() as i64).clamp(0, self.bands - 1)
    }

    fn band(&self, b: i64) -> Band {
        match self.cached.get((b - self.first_cached) as usize) {
            Some(band) if b >= self.first_cached => *band,
            _ => self.layout(b),
        }
    }

    fn layout(&self, b: i64) -> Band {
        let lo = -90.0 + b as f64 * self.band_height;
        let hi = (lo + self.band_height).min(90.0);
        let phi = lo.abs().max(hi.abs()).min(90.0).to_radians();
        let whole = Band {
            cells: 1,
            width: 360.0,
            reach: 180.0,
        };
        if phi.cos() <= self.delta.sin() || self.delta >= std::f64::consts::FRAC_PI_2 {
            return whole;
        }
        let reach = (self.delta.sin() / phi.cos()).asin().to_degrees() * (1.0 + SLACK);
        let cells = (360.0 / reach).floor() as i64;
        if cells < 3 {
            return whole;
        }
        Band {
            cells,
            width: 360.0 / cells as f64,
            reach,
        }
    }

    /// Cell `(band, lon cell)` of a position.
    pub fn cell_of(&self, lat: f64, lon: f64) -> (i64, i64) {
        let b = self.band_of(lat);
        let band = self.band(b);
        let c = ((lon + 180.0) / band.width).floor() as i64;
        (b, c.rem_euclid(band.cells))
    }

    /// Lower longitude edge of a cell, degrees in [-180, 180).
    pub fn cell_west_edge(&self, b: i64, c: i64) -> f64 {
        c as f64 * self.band(b).width - 180.0
    }

    /// Appends every cell that may hold a point within the radius of a point in cell `(b, c)`,
    /// as `(band, first cell, last cell)` ranges: disjoint, ascending within a band, wrapped
    /// at the antimeridian. The relation is symmetric for true pairs: each cell of a true pair
    /// lists the other.
    pub fn neighbour_ranges(&self, b: i64, c: i64, out: &mut Vec<(i64, i64, i64)>) {
        let own = self.band(b);
        for nb in [b - 1, b, b + 1] {
            if nb < 0 || nb >= self.bands {
                continue;
            }
            let other = if nb == b { own } else { self.band(nb) };
            if other.cells == 1 {
                out.push((nb, 0, 0));
                continue;
            }
            let (first, last) = if nb == b {
                (c - 1, c + 1)
            } else {
                let reach = own.reach.min(other.reach);
                let lo = c as f64 * own.width - reach;
                let hi = (c + 1) as f64 * own.width + reach;
                (
                    (lo / other.width).floor() as i64,
                    (hi / other.width).floor() as i64,
                )
            };
            let n = other.cells;
            if last - first + 1 >= n {
                out.push((nb, 0, n - 1));
            } else if first < 0 {
                out.push((nb, 0, last));
                out.push((nb, first + n, n - 1));
            } else if last >= n {
                out.push((nb, 0, last - n));
                out.push((nb, first, n - 1));
            } else {
                out.push((nb, first, last));
            }
        }
    }

    /// [`GeoGrid::neighbour_ranges`] as single cells.
    pub fn neighbours(&self, b: i64, c: i64, out: &mut Vec<(i64, i64)>) {
        let mut ranges = Vec::with_capacity(6);
        self.neighbour_ranges(b, c, &mut ranges);
        for (band, first, last) in ranges {
            out.extend((first..=last).map(|k| (band, k)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_known_distances() {
        // One degree of latitude on this sphere.
        let d = haversine_m(0.0, 0.0, 1.0, 0.0);
        assert!((d - 111_195.08).abs() < 0.1, "{d}");
        assert_eq!(haversine_m(10.0, 20.0, 10.0, 20.0), 0.0);
        // Across the antimeridian.
        let d = haversine_m(0.0, 179.9995, 0.0, -179.9995);
        assert!((d - 111.195).abs() < 0.01, "{d}");
    }

    #[test]
    fn centroid_across_antimeridian() {
        let (lat, lon) = centroid([(0.0, 179.0), (0.0, -179.0)].into_iter());
        assert!(lat.abs() < 1e-9);
        assert!((lon.abs() - 180.0).abs() < 1e-9, "{lon}");
    }

    #[test]
    fn cached_bands_match_computed_ones() {
        let plain = GeoGrid::new(250.0);
        let mut cached = GeoGrid::new(250.0);
        cached.cache_bands(-90.0, 90.0);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for k in 0..2000 {
            let lat = -90.0 + k as f64 * 0.09;
            let lon = -180.0 + k as f64 * 0.18;
            assert_eq!(plain.cell_of(lat, lon), cached.cell_of(lat, lon));
            let (band, cell) = plain.cell_of(lat, lon);
            a.clear();
            b.clear();
            plain.neighbours(band, cell, &mut a);
            cached.neighbours(band, cell, &mut b);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn neighbours_cover_every_close_pair() {
        let mut grid = GeoGrid::new(250.0);
        grid.cache_bands(-30.0, 30.0);
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut cells = Vec::new();
        for _ in 0..20_000 {
            let lat = next() * 180.0 - 90.0;
            let lon = next() * 360.0 - 180.0;
            let bearing = next() * std::f64::consts::TAU;
            let dist = next() * 250.0;
            let dlat = dist * bearing.cos() / 111_195.08;
            let lat2 = (lat + dlat).clamp(-90.0, 90.0);
            let dlon = dist * bearing.sin() / (111_195.08 * lat.to_radians().cos().max(1e-9));
            let lon2 = ((lon + dlon + 540.0).rem_euclid(360.0)) - 180.0;
            if haversine_m(lat, lon, lat2, lon2) > 250.0 {
                continue;
            }
            let (a, b) = (grid.cell_of(lat, lon), grid.cell_of(lat2, lon2));
            cells.clear();
            grid.neighbours(a.0, a.1, &mut cells);
            assert!(cells.contains(&b), "{lat},{lon} -> {lat2},{lon2}");
            cells.clear();
            grid.neighbours(b.0, b.1, &mut cells);
            assert!(cells.contains(&a), "{lat2},{lon2} -> {lat},{lon}");
        }
    }
}
