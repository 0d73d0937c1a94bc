//! The demo target: a small program with memory worth watching, run by
//! `pvtui demo` as a child of pvtui itself (`pvtui demo-target`).
//!
//! Everything it shares is in statics made of atomics, so another process
//! may change them under it and safe Rust still reads the new values. It
//! prints where each one lives (`name=0x...`), then `ready`, then one status
//! line a second — and that line changes when `UNLOCKED` is patched.

use std::io::Write;
use std::sync::atomic::{AtomicI32, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Counts the target's ticks, ten a second.
pub static TICKS: AtomicU64 = AtomicU64::new(0);
/// A sine wave ×1000, for a sparkline with a shape.
pub static WAVE: AtomicI32 = AtomicI32::new(0);
/// A temperature as f64 bits, drifting.
pub static TEMPERATURE: AtomicU64 = AtomicU64::new(0x4035_0000_0000_0000); // 21.0
/// Patch this to non-zero and the demo prints something else.
pub static UNLOCKED: AtomicU8 = AtomicU8::new(0);
/// A NUL-terminated string, 32 bytes.
pub static GREETING: [AtomicU8; 32] = text::<32>(b"hello from the pvtui demo");

/// A struct with a pointer to memory on the heap. `repr(C)` so its fields
/// sit at known offsets: hp +0, level +4, gold +8, inventory +16.
#[repr(C)]
pub struct Player {
    pub hp: AtomicU32,
    pub level: AtomicU32,
    pub gold: AtomicU64,
    /// Address of the heap-allocated inventory: `[AtomicU32; 8]`.
    pub inventory: AtomicUsize,
}

pub static PLAYER: Player = Player {
    hp: AtomicU32::new(100),
    level: AtomicU32::new(1),
    gold: AtomicU64::new(250),
    inventory: AtomicUsize::new(0),
};

const fn text<const N: usize>(s: &[u8]) -> [AtomicU8; N] {
    let mut out = [const { AtomicU8::new(0) }; N];
    let mut i = 0;
    while i < s.len() && i < N - 1 {
        out[i] = AtomicU8::new(s[i]);
        i += 1;
    }
    out
}

fn greeting() -> String {
    let bytes: Vec<u8> = GREETING
        .iter()
        .map(|b| b.load(Ordering::Relaxed))
        .take_while(|b| *b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn addr<T>(x: &T) -> usize {
    x as *const T as usize
}

/// Runs the demo target until its output is closed.
pub fn run() -> std::process::ExitCode {
    let inventory: &'static [AtomicU32; 8] = Box::leak(Box::new([const { AtomicU32::new(0) }; 8]));
    for (i, slot) in inventory.iter().enumerate() {
        slot.store((i as u32 + 1) * 11, Ordering::Relaxed);
    }
    PLAYER.inventory.store(addr(inventory), Ordering::Relaxed);
    let mut out = std::io::stdout().lock();
    let lines = [
        ("ticks", addr(&TICKS)),
        ("wave", addr(&WAVE)),
        ("temperature", addr(&TEMPERATURE)),
        ("unlocked", addr(&UNLOCKED)),
        ("greeting", addr(&GREETING)),
        ("player", addr(&PLAYER)),
        ("player.hp", addr(&PLAYER.hp)),
        ("player.gold", addr(&PLAYER.gold)),
        ("player.inventory", addr(&PLAYER.inventory)),
        ("inventory", addr(inventory)),
    ];
    for (name, at) in lines {
        if writeln!(out, "{name}={at:#x}").is_err() {
            return std::process::ExitCode::FAILURE;
        }
    }
    if writeln!(out, "pid={}\nready", std::process::id())
        .and_then(|_| out.flush())
        .is_err()
    {
        return std::process::ExitCode::FAILURE;
    }
    drop(out);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let tick = TICKS.fetch_add(1, Ordering::Relaxed) + 1;
        WAVE.store(
            ((tick as f64 / 8.0).sin() * 1000.0) as i32,
            Ordering::Relaxed,
        );
        // xorshift: a little noise for the temperature and the gold.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let temp = f64::from_bits(TEMPERATURE.load(Ordering::Relaxed));
        let drift = (seed % 21) as f64 / 100.0 - 0.1;
        TEMPERATURE.store(
            (temp + drift).clamp(-50.0, 150.0).to_bits(),
            Ordering::Relaxed,
        );
        if tick % 5 == 0 {
            PLAYER.gold.fetch_add(seed % 7, Ordering::Relaxed);
            let hp = PLAYER.hp.load(Ordering::Relaxed);
            PLAYER
                .hp
                .store(if hp <= 1 { 100 } else { hp - 1 }, Ordering::Relaxed);
        }
        if tick % 10 != 0 {
            continue;
        }
        let unlocked = UNLOCKED.load(Ordering::Relaxed);
        let vault = if unlocked == 0 {
            "the vault is locked (set unlocked to 1 to open it)".to_string()
        } else {
            format!("*** THE VAULT IS OPEN (unlocked = {unlocked}) ***")
        };
        let line = format!(
            "tick {tick}: hp {} gold {} greeting {:?} — {vault}",
            PLAYER.hp.load(Ordering::Relaxed),
            PLAYER.gold.load(Ordering::Relaxed),
            greeting()
        );
        let mut out = std::io::stdout().lock();
        // pvtui closed our output: it has quit, and so do we.
        if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
            return std::process::ExitCode::SUCCESS;
        }
    }
}
