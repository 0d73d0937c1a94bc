//! The maps pane: the target's regions, the filter typed over them, the
//! selection and each region's resident share.

use std::collections::HashMap;

use crate::process::Maps;
use crate::search::walk::region_label;

#[derive(Clone, Debug, Default)]
pub struct MapsState {
    pub maps: Maps,
    pub filter: String,
    pub selected: usize,
    /// Region start → resident bytes.
    pub residency: HashMap<u64, u64>,
}

impl MapsState {
    /// Indices of the regions the filter lets through.
    pub fn visible(&self) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        self.maps
            .regions()
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                needle.is_empty()
                    || r.path.to_lowercase().contains(&needle)
                    || (r.path.is_empty() && region_label(r).contains(&needle))
                    || r.perms.to_string().contains(&needle)
                    || format!("{:x}", r.start).contains(needle.trim_start_matches("0x"))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Takes fresh maps and residency, keeping the selection in range.
    pub fn apply(&mut self, maps: Option<Maps>, residency: Option<HashMap<u64, u64>>) {
        if let Some(maps) = maps {
            self.maps = maps;
            let n = self.visible().len();
            self.selected = self.selected.min(n.saturating_sub(1));
        }
        if let Some(residency) = residency {
            self.residency = residency;
        }
    }

    /// The start of the selected region.
    pub fn selected_start(&self) -> Option<u64> {
        let visible = self.visible();
        let i = visible.get(self.selected)?;
        self.maps.regions().get(*i).map(|r| r.start)
    }

    /// Sets the filter, selecting the first region it lets through.
    pub fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.selected = 0;
    }
}
