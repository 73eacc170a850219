//! Sides that several indicators read alike, read once while every indicator's
//! disclosure control is decided ([`super::Engine::decide_all`]): the eLb stock is the
//! denominator of most shares, and each reading filters a whole block over the span.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::decided::finest_of;
use super::{Engine, QuestionError, Request, side};
use crate::definition::Definition;
use crate::month::Month;

/// Sides that several indicators read alike (the eLb stock as the denominator of most
/// shares), read once while every indicator is decided ([`Engine::decide_all`]) and
/// dropped after their last reader.
pub(super) struct SharedSides {
    slots: Mutex<HashMap<String, (usize, SideSlot)>>,
}

/// One shared side, read by the first indicator that needs it.
type SideSlot = Arc<OnceCell<Arc<side::SideSums>>>;

impl SharedSides {
    /// Room for the sides of `defs`, each counted once per indicator that reads it.
    pub fn new(engine: &Engine, defs: &[&Definition]) -> SharedSides {
        let mut slots: HashMap<String, (usize, SideSlot)> = HashMap::new();
        for def in defs {
            let dims = engine.table_dims(def, |_| true);
            let Some((finest, computable)) = finest_of(engine, def, &dims, 1) else {
                continue;
            };
            for side in [&def.numerator, &def.denominator] {
                slots
                    .entry(side_key(engine, side, &finest, &computable))
                    .or_default()
                    .0 += 1;
            }
        }
        SharedSides {
            slots: Mutex::new(slots),
        }
    }

    /// The side of `key`, read by `run` unless another indicator read it already.
    pub async fn get<F, Fut>(&self, key: &str, run: F) -> Result<Arc<side::SideSums>, QuestionError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Arc<side::SideSums>, QuestionError>>,
    {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            let slot = slots.get_mut(key).map(|(readers, slot)| {
                *readers -= 1;
                (*readers, Arc::clone(slot))
            });
            if let Some((0, _)) = slot {
                slots.remove(key);
            }
            slot.map(|(_, slot)| slot)
        };
        match slot {
            Some(slot) => slot.get_or_try_init(run).await.map(Arc::clone),
            None => run().await,
        }
    }
}

/// What a side reads, as a key: equal for sides of two indicators that read the same
/// rows the same way.
pub(super) fn side_key(
    engine: &Engine,
    side: &crate::definition::Side,
    finest: &Request,
    months: &[Month],
) -> String {
    let dims: Vec<&String> = engine
        .blocks
        .get(&side.block)
        .map(|b| {
            finest
                .by
                .iter()
                .filter(|d| b.dimensions.contains(d))
                .collect()
        })
        .unwrap_or_default();
    format!(
        "{}|{:?}|{}|{:?}|{dims:?}|{:?}..{:?}",
        side.block,
        side.filter,
        side.measure,
        side.window,
        months.first(),
        months.last()
    )
}
