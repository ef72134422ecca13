//! What an executable is built for, read from its ELF header: the image's platform comes from the
//! binary itself, and a dynamically linked binary (which would not start in a scratch image) is
//! refused before anything is built.

use super::{Architecture, ImageError};

/// `PT_INTERP`: the program header naming the dynamic loader.
const PT_INTERP: u32 = 3;

/// The architecture `bytes` (a 64-bit little-endian ELF executable) runs on, if it is static.
pub(super) fn inspect(bytes: &[u8]) -> Result<Architecture, ImageError> {
    let not_elf = || ImageError::NotAnExecutable("not a 64-bit little-endian ELF file".to_owned());
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 {
        return Err(not_elf());
    }
    let architecture = match u16_at(bytes, 18).ok_or_else(not_elf)? {
        0xB7 => Architecture::Arm64,
        0x3E => Architecture::Amd64,
        machine => {
            return Err(ImageError::NotAnExecutable(format!(
                "built for ELF machine {machine:#x}, not arm64 or amd64"
            )));
        }
    };
    let offset = u64_at(bytes, 32).ok_or_else(not_elf)?;
    let entry_size = u64::from(u16_at(bytes, 54).ok_or_else(not_elf)?);
    let entries = u64::from(u16_at(bytes, 56).ok_or_else(not_elf)?);
    for index in 0..entries {
        let at = offset
            .checked_add(index * entry_size)
            .and_then(|at| usize::try_from(at).ok())
            .ok_or_else(not_elf)?;
        let whole = at
            .checked_add(usize::try_from(entry_size).map_err(|_| not_elf())?)
            .is_some_and(|end| end <= bytes.len());
        if !whole {
            return Err(not_elf());
        }
        if u32_at(bytes, at).ok_or_else(not_elf)? == PT_INTERP {
            return Err(ImageError::Dynamic(architecture));
        }
    }
    Ok(architecture)
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF header for `machine` with one program header of type `segment`.
    fn elf(machine: u16, segment: u32) -> Vec<u8> {
        let mut bytes = vec![0u8; 64 + 56];
        bytes[..6].copy_from_slice(b"\x7fELF\x02\x01");
        bytes[18..20].copy_from_slice(&machine.to_le_bytes());
        bytes[32..40].copy_from_slice(&64u64.to_le_bytes());
        bytes[54..56].copy_from_slice(&56u16.to_le_bytes());
        bytes[56..58].copy_from_slice(&1u16.to_le_bytes());
        bytes[64..68].copy_from_slice(&segment.to_le_bytes());
        bytes
    }

    #[test]
    fn static_executables_name_their_architecture() {
        assert_eq!(inspect(&elf(0xB7, 1)).ok(), Some(Architecture::Arm64));
        assert_eq!(inspect(&elf(0x3E, 1)).ok(), Some(Architecture::Amd64));
    }

    #[test]
    fn dynamic_foreign_and_truncated_files_are_refused() {
        assert!(matches!(
            inspect(&elf(0xB7, PT_INTERP)),
            Err(ImageError::Dynamic(Architecture::Arm64))
        ));
        assert!(matches!(
            inspect(&elf(0x28, 1)),
            Err(ImageError::NotAnExecutable(m)) if m.contains("0x28")
        ));
        let mut truncated = elf(0x3E, 1);
        truncated.truncate(100);
        assert!(matches!(
            inspect(&truncated),
            Err(ImageError::NotAnExecutable(_))
        ));
        assert!(inspect(b"#!/bin/sh\necho hi\n").is_err());
        // A program header table pointing past the end of the file.
        let mut far = elf(0x3E, 1);
        far[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(inspect(&far).is_err());
    }
}
