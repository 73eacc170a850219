//! The organisational model: synthetic jobcenters and their districts.
//!
//! Three are modelled on Münster (kreisfreie Stadt, zkT), the Rheinisch-Bergischer Kreis
//! (gE) and the Kreis Recklinghausen (zkT). For national-size extracts (`--jobcenters`
//! above 3) further jobcenters are drawn from a stream of their own: 1 to 12 districts,
//! populations, SGB II rates, model, comparison type, labour market and rents in the
//! ranges of the three. District weights are population (thousands) times an SGB II
//! rate (%), i.e. roughly the number of benefit recipients in hundreds, so that
//! jobcenter and district sizes are proportional to real orders of magnitude. Every
//! name carries "(synthetisch)" at jobcenter level: none of this is real data.

use std::borrow::Cow;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::calendar::pick;

/// A district (Stadtbezirk or municipality).
#[derive(Debug, Clone)]
pub(crate) struct District {
    pub name: Cow<'static, str>,
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
#[derive(Debug, Clone)]
pub(crate) struct Jobcenter {
    pub id: Cow<'static, str>,
    pub name: Cow<'static, str>,
    pub state: &'static str,
    pub model: &'static str,
    pub comparison_type: &'static str,
    /// Whether the jobcenter runs contact cafés (`contact_cafe` invitations).
    pub contact_cafe: bool,
    /// Monthly housing costs (rent and heating) of a one-person BG, euro.
    pub housing_single: f64,
    /// Local labour market: multiplies exit and integration hazards (1.0 = average).
    pub labour_market: f64,
    pub districts: Cow<'static, [District]>,
}

const fn d(name: &'static str, population_k: f64, rate_pct: f64) -> District {
    District {
        name: Cow::Borrowed(name),
        population_k,
        rate_pct,
    }
}

/// Index of Rhein-Berg in [`Units::jobcenters`] (the health-check cohort lives there).
pub(crate) const RHEIN_BERG: usize = 1;

/// The three modelled jobcenters; district ids are `<id>-NN` in this order, from `01`.
const MODELLED: &[Jobcenter] = &[
    Jobcenter {
        id: Cow::Borrowed("05515"),
        name: Cow::Borrowed("Jobcenter Münster (synthetisch)"),
        state: "NW",
        model: "zkT",
        comparison_type: "IIb",
        contact_cafe: true,
        housing_single: 455.0,
        labour_market: 1.08,
        districts: Cow::Borrowed(&[
            d("Mitte", 128.0, 6.5),
            d("Nord", 22.0, 14.0),
            d("Coerde", 11.0, 21.0),
            d("Ost", 19.0, 5.5),
            d("West", 55.0, 6.0),
            d("Süd-Ost", 24.0, 5.0),
            d("Hiltrup", 27.0, 4.5),
        ]),
    },
    Jobcenter {
        id: Cow::Borrowed("05378"),
        name: Cow::Borrowed("Jobcenter Rhein-Berg (synthetisch)"),
        state: "NW",
        model: "gE",
        comparison_type: "Ia",
        contact_cafe: true,
        housing_single: 440.0,
        labour_market: 1.15,
        districts: Cow::Borrowed(&[
            d("Bergisch Gladbach", 111.0, 8.5),
            d("Burscheid", 18.0, 5.5),
            d("Kürten", 20.0, 3.5),
            d("Leichlingen", 28.0, 5.5),
            d("Odenthal", 15.0, 3.0),
            d("Overath", 27.0, 4.5),
            d("Rösrath", 28.0, 5.5),
            d("Wermelskirchen", 35.0, 6.5),
        ]),
    },
    Jobcenter {
        id: Cow::Borrowed("05562"),
        name: Cow::Borrowed("Jobcenter Kreis Recklinghausen (synthetisch)"),
        state: "NW",
        model: "zkT",
        comparison_type: "IIIc",
        contact_cafe: false,
        housing_single: 375.0,
        labour_market: 0.95,
        districts: Cow::Borrowed(&[
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
        ]),
    },
];

/// Comparison types drawn for jobcenters beyond the modelled three (the SGB II
/// Vergleichstypen of 2019).
const COMPARISON_TYPES: &[&str] = &[
    "Ia", "Ib", "Ic", "Id", "Ie", "IIa", "IIb", "IIc", "IIIa", "IIIb", "IIIc", "IIId", "IIIe",
];

/// The Länder drawn jobcenters lie in.
const STATES: &[&str] = &[
    "BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH",
];

/// A further synthetic jobcenter, number `n` (from 4), drawn from `rng`.
fn drawn(rng: &mut ChaCha8Rng, n: usize) -> Jobcenter {
    let districts = (1..=rng.random_range(1..=12usize))
        .map(|k| District {
            name: Cow::Owned(format!("Bezirk {k}")),
            population_k: rng.random_range(8.0..120.0),
            rate_pct: rng.random_range(3.0..18.0),
        })
        .collect::<Vec<_>>();
    Jobcenter {
        id: Cow::Owned(format!("9{n:04}")),
        name: Cow::Owned(format!("Jobcenter Synthland {n:03} (synthetisch)")),
        state: STATES[rng.random_range(0..STATES.len())],
        model: if rng.random_bool(0.25) { "zkT" } else { "gE" },
        comparison_type: COMPARISON_TYPES[rng.random_range(0..COMPARISON_TYPES.len())],
        contact_cafe: rng.random_bool(0.3),
        housing_single: rng.random_range(340.0..520.0),
        labour_market: rng.random_range(0.85..1.2),
        districts: Cow::Owned(districts),
    }
}

/// The jobcenters with precomputed identifiers and weights.
#[derive(Debug)]
pub(crate) struct Units {
    /// The modelled three, then those drawn.
    pub jobcenters: Vec<Jobcenter>,
    /// `district_ids[jc][d]`, e.g. `05515-03`.
    pub district_ids: Vec<Vec<String>>,
    jc_weights: Vec<f64>,
    district_weights: Vec<Vec<f64>>,
}

impl Units {
    /// The three modelled jobcenters followed by `count - 3` drawn from `rng` (which is
    /// not touched for `count <= 3`, so the committed sample stays byte-identical).
    pub fn new(count: usize, rng: &mut ChaCha8Rng) -> Self {
        let mut jobcenters = MODELLED.to_vec();
        jobcenters.extend((MODELLED.len() + 1..=count).map(|n| drawn(rng, n)));
        let district_weights: Vec<Vec<f64>> = jobcenters
            .iter()
            .map(|jc| jc.districts.iter().map(District::weight).collect())
            .collect();
        Units {
            district_ids: jobcenters
                .iter()
                .map(|jc| {
                    (1..=jc.districts.len())
                        .map(|n| format!("{}-{n:02}", jc.id))
                        .collect()
                })
                .collect(),
            jc_weights: district_weights.iter().map(|w| w.iter().sum()).collect(),
            district_weights,
            jobcenters,
        }
    }

    /// Jobcenter number `jc`.
    pub fn jobcenter(&self, jc: usize) -> &Jobcenter {
        &self.jobcenters[jc]
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
        let ds = &self.jobcenters[jc].districts;
        let pop: f64 = ds.iter().map(|d| d.population_k).sum();
        let mean = self.jc_weights[jc] / pop;
        ds[district].rate_pct / mean
    }
}
