//! Source lines of code addresses, from each object's DWARF line table:
//! `game.c:51` for an instruction of a writers report.

use crate::debuginfo::{DResult, DebugFile, DebugInfo};

impl DebugFile {
    /// The file (its last path part) and line of the instruction at
    /// `link_addr`, an address as the object was linked.
    pub fn line_at(&self, link_addr: u64) -> DResult<Option<(String, u64)>> {
        let dwarf = self.dwarf()?;
        let mut units = dwarf.units();
        while let Some(header) = units.next()? {
            let unit = dwarf.unit(header)?;
            let Some(program) = unit.line_program.clone() else {
                continue;
            };
            let mut rows = program.rows();
            // The row before: it covers the addresses up to the next row's.
            let mut before: Option<(u64, u64, u64)> = None;
            while let Some((header, row)) = rows.next_row()? {
                if let Some((start, file, line)) = before
                    && start <= link_addr
                    && link_addr < row.address()
                {
                    let name = match header.file(file) {
                        Some(entry) => dwarf
                            .attr_string(&unit, entry.path_name())?
                            .to_string_lossy()
                            .into_owned(),
                        None => "?".to_string(),
                    };
                    let short = name.rsplit('/').next().unwrap_or(&name).to_string();
                    return Ok(Some((short, line)));
                }
                before = if row.end_sequence() {
                    None
                } else {
                    let line = row.line().map_or(0, |l| l.get());
                    Some((row.address(), row.file_index(), line))
                };
            }
        }
        Ok(None)
    }
}

impl DebugInfo {
    /// `file.c:LINE` of the code at `ip` in the target, where the object
    /// holding it has a line table.
    pub fn line_at(&self, ip: u64) -> Option<String> {
        let module = self
            .modules
            .iter()
            .find(|m| m.regions.iter().any(|r| r.start <= ip && ip < r.end))?;
        let found = self.found(module).ok()?;
        let (_, file) = found.dwarf.as_ref()?;
        let bias = super::bias(&found.loads, &module.regions)?;
        let (name, line) = file.line_at(ip.wrapping_sub(bias)).ok()??;
        Some(format!("{name}:{line}"))
    }
}
