//! The organisational model: three synthetic jobcenters and their districts.
//!
//! Modelled on Münster (kreisfreie Stadt, zkT), the Rheinisch-Bergischer Kreis (gE) and
//! the Kreis Recklinghausen (zkT). District weights are population (thousands) times an
//! SGB II rate (%), i.e. roughly the number of benefit recipients in hundreds, so that
//! jobcenter and district sizes are proportional to real orders of magnitude. Every
//! name carries "(synthetisch)" at jobcenter level: none of this is real data.

use rand_chacha::ChaCha8Rng;

use super::calendar::pick;

/// A district (Stadtbezirk or municipality).
#[derive(Debug)]
pub(crate) struct District {
    pub name: &'static str,
    /// Population in thousands (rounded, of the 2010s).
    pub population_k: f64,
    /// Share of the population under 65 in SGB II receipt, percent (synthetic).
    pub rate_pct: f64,
}

impl District {
    fn weight(&self) -> f64 {
        self.population_k * self.rate_pct
    }
}

/// A jobcenter.
#[derive(Debug)]
pub(crate) struct Jobcenter {
    pub id: &'static str,
    pub name: &'static str,
    pub state: &'static str,
    pub model: &'static str,
    pub comparison_type: &'static str,
    /// Whether the jobcenter runs contact cafés (`contact_cafe` invitations).
    pub contact_cafe: bool,
    /// Monthly housing costs (rent and heating) of a one-person BG, euro.
    pub housing_single: f64,
    /// Local labour market: multiplies exit and integration hazards (1.0 = average).
    pub labour_market: f64,
    pub districts: &'static [District],
}

const fn d(name: &'static str, population_k: f64, rate_pct: f64) -> District {
    District {
        name,
        population_k,
        rate_pct,
    }
}

/// Index of Rhein-Berg in [`JOBCENTERS`] (the health-check cohort lives there).
pub(crate) const RHEIN_BERG: usize = 1;

/// The three jobcenters; district ids are `<id>-NN` in this order, from `01`.
pub(crate) const JOBCENTERS: &[Jobcenter] = &[
    Jobcenter {
        id: "05515",
        name: "Jobcenter Münster (synthetisch)",
        state: "NW",
        model: "zkT",
        comparison_type: "IIb",
        contact_cafe: true,
        housing_single: 455.0,
        labour_market: 1.08,
        districts: &[
            d("Mitte", 128.0, 6.5),
            d("Nord", 22.0, 14.0),
            d("Coerde", 11.0, 21.0),
            d("Ost", 19.0, 5.5),
            d("West", 55.0, 6.0),
            d("Süd-Ost", 24.0, 5.0),
            d("Hiltrup", 27.0, 4.5),
        ],
    },
    Jobcenter {
        id: "05378",
        name: "Jobcenter Rhein-Berg (synthetisch)",
        state: "NW",
        model: "gE",
        comparison_type: "Ia",
        contact_cafe: true,
        housing_single: 440.0,
        labour_market: 1.15,
        districts: &[
            d("Bergisch Gladbach", 111.0, 8.5),
            d("Burscheid", 18.0, 5.5),
            d("Kürten", 20.0, 3.5),
            d("Leichlingen", 28.0, 5.5),
            d("Odenthal", 15.0, 3.0),
            d("Overath", 27.0, 4.5),
            d("Rösrath", 28.0, 5.5),
            d("Wermelskirchen", 35.0, 6.5),
        ],
    },
    Jobcenter {
        id: "05562",
        name: "Jobcenter Kreis Recklinghausen (synthetisch)",
        state: "NW",
        model: "zkT",
        comparison_type: "IIIc",
        contact_cafe: false,
        housing_single: 375.0,
        labour_market: 0.95,
        districts: &[
            d("Castrop-Rauxel", 74.0, 14.0),
            d("Datteln", 35.0, 11.5),
            d("Dorsten", 75.0, 9.5),
            d("Gladbeck", 76.0, 17.0),
            d("Haltern am See", 38.0, 5.0),
            d("Herten", 62.0, 16.0),
            d("Marl", 84.0, 14.5),
            d("Oer-Erkenschwick", 31.0, 12.0),
            d("Recklinghausen", 114.0, 15.5),
            d("Waltrop", 29.0, 8.5),
        ],
    },
];

/// Precomputed identifiers and weights.
#[derive(Debug)]
pub(crate) struct Units {
    /// `district_ids[jc][d]`, e.g. `05515-03`.
    pub district_ids: Vec<Vec<String>>,
    jc_weights: Vec<f64>,
    district_weights: Vec<Vec<f64>>,
}

impl Units {
    pub fn new() -> Self {
        let district_weights: Vec<Vec<f64>> = JOBCENTERS
            .iter()
            .map(|jc| jc.districts.iter().map(District::weight).collect())
            .collect();
        Units {
            district_ids: JOBCENTERS
                .iter()
                .map(|jc| {
                    (1..=jc.districts.len())
                        .map(|n| format!("{}-{n:02}", jc.id))
                        .collect()
                })
                .collect(),
            jc_weights: district_weights.iter().map(|w| w.iter().sum()).collect(),
            district_weights,
        }
    }

    /// A jobcenter drawn in proportion to its recipients.
    pub fn pick_jobcenter(&self, rng: &mut ChaCha8Rng) -> usize {
        pick(rng, &self.jc_weights)
    }

    /// A jobcenter other than `not`, in proportion to recipients.
    pub fn pick_other_jobcenter(&self, rng: &mut ChaCha8Rng, not: usize) -> usize {
        let w: Vec<f64> = self
            .jc_weights
            .iter()
            .enumerate()
            .map(|(i, w)| if i == not { 0.0 } else { *w })
            .collect();
        pick(rng, &w)
    }

    /// A district of `jc` in proportion to its recipients.
    pub fn pick_district(&self, rng: &mut ChaCha8Rng, jc: usize) -> usize {
        pick(rng, &self.district_weights[jc])
    }

    /// A district of `jc` other than `not`.
    pub fn pick_other_district(&self, rng: &mut ChaCha8Rng, jc: usize, not: usize) -> usize {
        let w: Vec<f64> = self.district_weights[jc]
            .iter()
            .enumerate()
            .map(|(i, w)| if i == not { 0.0 } else { *w })
            .collect();
        pick(rng, &w)
    }

    /// The SGB II rate of a district relative to its jobcenter's mean (1.0 = average):
    /// poorer districts have longer spells.
    pub fn deprivation(&self, jc: usize, district: usize) -> f64 {
        let ds = JOBCENTERS[jc].districts;
        let pop: f64 = ds.iter().map(|d| d.population_k).sum();
        let mean = self.jc_weights[jc] / pop;
        ds[district].rate_pct / mean
    }
}
