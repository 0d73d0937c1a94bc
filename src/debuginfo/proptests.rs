//! Malformed debug info gives an error, never a panic, a hang or an
//! allocation the input merely claims.
