//! What the dashboards keep in memory between requests: the units that exist on a day and the
//! marks of a scheme's approved reviews, each with the change counter it was read at. Every
//! use first reads the counters (one small query, bumped in the same transaction as any change,
//! whichever process made it) and reloads what changed, so no figure is older than the request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use danvan_domain::units::Unit;
use danvan_store::Store;

/// The units of one day, with the hierarchy's links.
pub struct UnitTree {
    units: Vec<Unit>,
    children: HashMap<i64, Vec<usize>>,
    by_id: HashMap<i64, usize>,
}

impl UnitTree {
    pub fn new(units: Vec<Unit>) -> Self {
        let mut children: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut by_id = HashMap::with_capacity(units.len());
        for (i, u) in units.iter().enumerate() {
            by_id.insert(u.id, i);
            if let Some(p) = u.parent_id {
                children.entry(p).or_default().push(i);
            }
        }
        Self { units, children, by_id }
    }

    /// The child of `root` on the way down to `id` (`id` itself when it is a child), if `id`
    /// lies under `root`.
    /// A unit of the tree by its id.
    pub fn get(&self, id: i64) -> Option<&Unit> {
        self.by_id.get(&id).map(|&i| &self.units[i])
    }

    pub fn child_toward(&self, root: i64, mut id: i64) -> Option<i64> {
        while let Some(parent) = self.by_id.get(&id).and_then(|&i| self.units[i].parent_id) {
            if parent == root {
                return Some(id);
            }
            id = parent;
        }
        None
    }

    /// The units under `root` that exist on the tree's day, and `root` itself when it does.
    pub fn subtree(&self, root: i64) -> Vec<&Unit> {
        let mut out: Vec<&Unit> = self.by_id.get(&root).map(|&i| &self.units[i]).into_iter().collect();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            for &i in self.children.get(&id).map(Vec::as_slice).unwrap_or_default() {
                out.push(&self.units[i]);
                stack.push(self.units[i].id);
            }
        }
        out
    }
}

/// Days kept at most; a new day beyond them empties the cache of units.
const DAYS: usize = 16;

#[derive(Default)]
pub struct Cache {
    units: Mutex<(i64, HashMap<NaiveDate, Arc<UnitTree>>)>,
    marks: Mutex<HashMap<i64, (i64, Arc<Marks>)>>,
    links: Mutex<Option<(i64, Arc<Vec<danvan_domain::lineage::Link>>)>>,
}

type Result<T> = std::result::Result<T, danvan_store::StoreError>;

impl Cache {
    /// The units of a day, as of the hierarchy's counter `version`.
    pub async fn units_on(&self, store: &Store, on: NaiveDate, version: i64) -> Result<Arc<UnitTree>> {
        {
            let held = self.units.lock().unwrap_or_else(|e| e.into_inner());
            if held.0 == version {
                if let Some(tree) = held.1.get(&on) {
                    return Ok(tree.clone());
                }
            }
        }
        let tree = Arc::new(UnitTree::new(store.units_on(on).await?));
        let mut held = self.units.lock().unwrap_or_else(|e| e.into_inner());
        if held.0 != version || held.1.len() >= DAYS {
            *held = (version, HashMap::new());
        }
        held.1.insert(on, tree.clone());
        Ok(tree)
    }

    /// Every succession between units (the reform map), as of the hierarchy's counter `version`.
    pub async fn links(&self, store: &Store, version: i64) -> Result<Arc<Vec<danvan_domain::lineage::Link>>> {
        {
            let held = self.links.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((v, links)) = held.as_ref() {
                if *v == version {
                    return Ok(links.clone());
                }
            }
        }
        let links = Arc::new(store.successions().await?);
        *self.links.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, links.clone()));
        Ok(links)
    }

    /// The marks of every approved review of a scheme, as of the scheme's counter `version`:
    /// only the reviews changed since the version held are read.
    pub async fn marks(&self, store: &Store, scheme_id: i64, version: i64) -> Result<Arc<Marks>> {
        let held = {
            let held = self.marks.lock().unwrap_or_else(|e| e.into_inner());
            match held.get(&scheme_id) {
                Some((v, marks)) if *v == version => return Ok(marks.clone()),
                Some((v, marks)) if *v < version => Some((*v, marks.clone())),
                _ => None,
            }
        };
        let (since, mut marks) = held.unwrap_or_default();
        let changes = store.marks_changed_since(scheme_id, since).await?;
        let map = Arc::make_mut(&mut marks);
        for c in changes {
            match c.met {
                Some(met) => map.insert((c.unit_id, c.period), (c.late, met)),
                None => map.remove(&(c.unit_id, c.period)),
            };
        }
        let mut held = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        let newer = held.get(&scheme_id).is_some_and(|(v, _)| *v > version);
        if !newer {
            held.insert(scheme_id, (version, marks.clone()));
        }
        Ok(marks)
    }
}

/// The approved reviews of a scheme by unit and period: late or not, and the marks of the
/// targets met (see `danvan_domain::achievement::met_marks`).
pub type Marks = HashMap<(i64, String), (bool, String)>;

#[cfg(test)]
mod tests {
    use super::*;
    use danvan_domain::units::UnitLevel;

    fn unit(id: i64, parent: Option<i64>) -> Unit {
        Unit {
            id,
            code: id.to_string(),
            name: format!("U{id}"),
            short_name: format!("U{id}"),
            kind: "Xã".into(),
            level: UnitLevel::Commune,
            parent_id: parent,
            lat: None,
            lon: None,
            area_km2: None,
            valid_from: None,
            valid_to: None,
        }
    }

    #[test]
    fn a_subtree_holds_the_root_and_everything_below_it() {
        let tree = UnitTree::new(vec![
            unit(1, None),
            unit(2, Some(1)),
            unit(3, Some(2)),
            unit(4, Some(1)),
            unit(5, None),
        ]);
        let mut ids: Vec<i64> = tree.subtree(2).iter().map(|u| u.id).collect();
        ids.sort();
        assert_eq!(ids, [2, 3]);
        let mut all: Vec<i64> = tree.subtree(1).iter().map(|u| u.id).collect();
        all.sort();
        assert_eq!(all, [1, 2, 3, 4]);
        assert!(tree.subtree(9).is_empty());
        assert_eq!(
            (tree.child_toward(1, 3), tree.child_toward(1, 4), tree.child_toward(2, 3)),
            (Some(2), Some(4), Some(3))
        );
        assert_eq!(
            (tree.child_toward(1, 1), tree.child_toward(4, 3), tree.child_toward(1, 5)),
            (None, None, None)
        );
        // A root missing on the day still leads to its children that exist then.
        let orphan = UnitTree::new(vec![unit(7, Some(6))]);
        assert_eq!(orphan.subtree(6).iter().map(|u| u.id).collect::<Vec<_>>(), [7]);
    }
}
