//! A watch expression turned into the address and size it names now.

use crate::error::{Error, Result};
use crate::expr::{Type, parse_watch};
use crate::process::ReadMode;
use crate::session::Session;

/// Where a watch expression points at this moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub addr: u64,
    pub ty: Type,
}

/// Resolves `text` against the target, following its pointers once.
pub fn place_of(text: &str, session: &mut Session) -> Result<Place> {
    // A long expression is named shortly: its parse error shows where it failed.
    let name = crate::text::shortened(text, 60);
    let watch = parse_watch(text).map_err(|e| Error::Usage(format!("{name}:\n{e}")))?;
    match session.evaluate(&watch, ReadMode::Force)? {
        Ok(reading) => match reading.address {
            Some(addr) => Ok(Place {
                addr,
                ty: reading.ty,
            }),
            None => Err(Error::Usage(format!("{name}: {}", reading.status))),
        },
        Err(diagnostic) => Err(Error::Usage(format!("{name}: {diagnostic}"))),
    }
}
