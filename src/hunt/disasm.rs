//! The instruction that made a sampled access.
//!
//! A data breakpoint traps once the accessing instruction has completed, so
//! the sampled IP is the address of the *next* instruction. x86 instructions
//! have no fixed length and cannot be decoded backwards, so the access is
//! found by decoding forward from a known instruction boundary (the start of
//! the function holding the IP) until an instruction ends exactly at the IP.

/// The accessing instruction: its address, length and Intel-syntax text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AccessInstruction {
    pub addr: u64,
    pub len: usize,
    /// e.g. `add dword ptr [rax+0xc], edi`
    pub text: String,
}

/// The most code read to find one instruction: a function longer than this
/// before the IP is left undecoded rather than read whole.
pub const MAX_SPAN: u64 = 1 << 20;

/// Whether this build can decode the target's instructions: x86_64 only.
pub const SUPPORTED: bool = cfg!(target_arch = "x86_64");

/// Decodes `code` (the bytes from `start` up to at least `ip`) forward from
/// `start` and returns the instruction that ends exactly at `ip`; `None`
/// when decoding steps over `ip` (data in the code, or `start` was not an
/// instruction boundary) or meets an invalid instruction first.
pub fn instruction_ending_at(start: u64, code: &[u8], ip: u64) -> Option<AccessInstruction> {
    use iced_x86::{Decoder, DecoderOptions, Instruction};

    let span = usize::try_from(ip.checked_sub(start)?).ok()?;
    if span == 0 || span > code.len() {
        return None;
    }
    let mut decoder = Decoder::with_ip(64, &code[..span], start, DecoderOptions::NONE);
    let mut instruction = Instruction::default();
    while decoder.can_decode() {
        decoder.decode_out(&mut instruction);
        if instruction.is_invalid() {
            return None;
        }
        if instruction.next_ip() == ip {
            return Some(described(&instruction));
        }
    }
    // The last instruction ran past `ip`: its bytes were cut off at `span`,
    // which the decoder reports as invalid above, or `ip` lies mid-instruction.
    None
}

/// An instruction's address, length and text, as objdump -M intel and gdb
/// print it.
fn described(instruction: &iced_x86::Instruction) -> AccessInstruction {
    use iced_x86::{Formatter, IntelFormatter, MemorySizeOptions};
    let mut formatter = IntelFormatter::new();
    let options = formatter.options_mut();
    options.set_hex_prefix("0x");
    options.set_hex_suffix("");
    options.set_uppercase_hex(false);
    options.set_space_after_operand_separator(true);
    options.set_rip_relative_addresses(true);
    options.set_memory_size_options(MemorySizeOptions::Always);
    let mut text = String::new();
    formatter.format(instruction, &mut text);
    AccessInstruction {
        addr: instruction.ip(),
        len: instruction.len(),
        text,
    }
}

/// The instruction at `ip` when it is a `rep`-prefixed string instruction
/// (`rep movsb`, `rep stosq`, …): a breakpoint that fires in the middle of
/// one leaves the IP on the instruction itself, which is then the access.
pub fn rep_string_at(ip: u64, code: &[u8]) -> Option<AccessInstruction> {
    use iced_x86::{Decoder, DecoderOptions, OpKind};
    let mut decoder = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    let instruction = decoder.decode();
    let repeated = instruction.has_rep_prefix() || instruction.has_repne_prefix();
    // String instructions address memory through rSI / rDI implicitly.
    let string = (0..instruction.op_count()).any(|i| {
        matches!(
            instruction.op_kind(i),
            OpKind::MemorySegSI
                | OpKind::MemorySegESI
                | OpKind::MemorySegRSI
                | OpKind::MemoryESDI
                | OpKind::MemoryESEDI
                | OpKind::MemoryESRDI
                | OpKind::MemorySegDI
                | OpKind::MemorySegEDI
                | OpKind::MemorySegRDI
        )
    });
    (!instruction.is_invalid() && repeated && string).then(|| described(&instruction))
}

/// Finds the instruction before `ip` in the function that holds it: the
/// function's start comes from `function_offset` (its offset into its
/// symbol), and `read` fetches the code bytes from the target. `None` on
/// another architecture, without a function start, when the function is
/// longer than [`MAX_SPAN`] before `ip`, or when the code cannot be read or
/// decoded to `ip`.
pub fn access_before(
    ip: u64,
    function_offset: Option<u64>,
    read: &mut dyn FnMut(u64, usize) -> Option<Vec<u8>>,
) -> Option<AccessInstruction> {
    if !SUPPORTED {
        return None;
    }
    // Stopped inside a repeated string instruction: that is the access.
    if let Some(rep) = read(ip, 15).and_then(|code| rep_string_at(ip, &code)) {
        return Some(rep);
    }
    let offset = function_offset?;
    if offset == 0 || offset > MAX_SPAN {
        return None;
    }
    let start = ip.checked_sub(offset)?;
    let code = read(start, usize::try_from(offset).ok()?)?;
    instruction_ending_at(start, &code, ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `push rbp; mov rbp,rsp; add dword ptr [rip+0x2ed6],1; pop rbp; ret`
    const CODE: [u8; 13] = [
        0x55, 0x48, 0x89, 0xe5, 0x83, 0x05, 0xd6, 0x2e, 0x00, 0x00, 0x01, 0x5d, 0xc3,
    ];
    const BASE: u64 = 0x1000;

    #[test]
    fn a_repeated_string_instruction_at_the_ip_is_the_access() {
        // rep stosb; then ret
        let code = [0xf3, 0xaa, 0xc3];
        let rep = rep_string_at(BASE, &code).expect("rep stosb");
        assert_eq!((rep.addr, rep.len), (BASE, 2));
        assert!(rep.text.contains("stos"), "{}", rep.text);
        // movsd xmm0, [rax] has an F2 prefix but is no string instruction.
        assert_eq!(rep_string_at(BASE, &[0xf2, 0x0f, 0x10, 0x00]), None);
        // Nor is a plain store.
        assert_eq!(rep_string_at(BASE, &CODE[4..]), None);
        // Found first by the whole lookup, without a function start.
        let found = access_before(BASE, None, &mut |_, len| Some(code[..len.min(3)].to_vec()));
        assert_eq!(found.map(|a| a.addr), Some(BASE));
    }

    #[test]
    fn finds_the_instruction_that_ends_at_the_ip() {
        let found = instruction_ending_at(BASE, &CODE, BASE + 11).expect("an instruction");
        assert_eq!(found.addr, BASE + 4);
        assert_eq!(found.len, 7);
        assert_eq!(found.text, "add dword ptr [rip+0x2ed6], 1");
        let first = instruction_ending_at(BASE, &CODE, BASE + 1).expect("push");
        assert_eq!((first.addr, first.text.as_str()), (BASE, "push rbp"));
        let mov = instruction_ending_at(BASE, &CODE, BASE + 4).expect("mov");
        assert_eq!(mov.text, "mov rbp, rsp");
    }

    #[test]
    fn an_ip_inside_an_instruction_names_none() {
        // BASE + 6 is inside the `add`: no instruction ends there.
        assert_eq!(instruction_ending_at(BASE, &CODE, BASE + 6), None);
        assert_eq!(instruction_ending_at(BASE, &CODE, BASE), None);
        assert_eq!(instruction_ending_at(BASE + 1, &CODE, BASE), None);
        // Fewer bytes than the span: nothing to decode.
        assert_eq!(instruction_ending_at(BASE, &CODE[..4], BASE + 11), None);
    }

    #[test]
    fn access_before_reads_from_the_function_start() {
        let asked = std::cell::RefCell::new(Vec::new());
        let mut read = |addr: u64, len: usize| {
            asked.borrow_mut().push((addr, len));
            let from = usize::try_from(addr - BASE).ok()?;
            CODE.get(from..from + len).map(<[u8]>::to_vec)
        };
        let found = access_before(BASE + 11, Some(11), &mut read);
        if SUPPORTED {
            assert_eq!(found.map(|f| f.addr), Some(BASE + 4));
            // First the instruction at the IP (a repeated string one would
            // be the access), then the function from its start.
            assert_eq!(*asked.borrow(), vec![(BASE + 11, 15), (BASE, 11)]);
        } else {
            assert_eq!(found, None);
        }
        // No function start known, or the IP at the start itself: no guess.
        assert_eq!(access_before(BASE + 11, None, &mut read), None);
        assert_eq!(access_before(BASE, Some(0), &mut read), None);
        // A function too long to read for one instruction.
        assert_eq!(
            access_before(BASE + 11, Some(MAX_SPAN + 1), &mut read),
            None
        );
    }
}
