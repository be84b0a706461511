//! CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as used by GPT, and CRC-32C
//! (Castagnoli, 0x82F63B78) as used by VHDX. Incremental so that large tables can be checked
//! while they stream past.

const fn make_table(poly: u32) -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { poly ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        // `i < 256` in this const loop: the index is always in bounds.
        #[allow(clippy::indexing_slicing)]
        {
            table[i] = c;
        }
        i += 1;
    }
    table
}

static IEEE: [u32; 256] = make_table(0xEDB8_8320);
static CASTAGNOLI: [u32; 256] = make_table(0x82F6_3B78);

/// Running CRC-32 state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Crc32 {
    value: u32,
    table: &'static [u32; 256],
}

impl Crc32 {
    /// CRC-32 (IEEE).
    pub(crate) fn new() -> Self {
        Crc32 { value: 0xFFFF_FFFF, table: &IEEE }
    }

    /// CRC-32C (Castagnoli).
    pub(crate) fn castagnoli() -> Self {
        Crc32 { value: 0xFFFF_FFFF, table: &CASTAGNOLI }
    }

    /// The CRC-32 (IEEE) register started at `seed` with no final inversion, as lvm2's
    /// `calc_crc` computes it (read the result with [`Crc32::register`]).
    pub(crate) fn seeded(seed: u32) -> Self {
        Crc32 { value: seed, table: &IEEE }
    }

    /// The register as it stands, without the final inversion.
    pub(crate) fn register(self) -> u32 {
        self.value
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        let mut c = self.value;
        for &b in data {
            // `& 0xFF` keeps the index inside the 256-entry table.
            #[allow(clippy::indexing_slicing)]
            let entry = self.table[((c ^ u32::from(b)) & 0xFF) as usize];
            c = entry ^ (c >> 8);
        }
        self.value = c;
    }

    pub(crate) fn finish(self) -> u32 {
        !self.value
    }
}

/// CRC-32 of one buffer.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(data);
    c.finish()
}

/// Whether a stored checksum matches the one computed — always, when fuzzing
/// (`cfg(fuzzing)`), so the fuzzer reaches what the checksum protects.
pub fn holds(stored: u32, computed: u32) -> bool {
    cfg!(fuzzing) || stored == computed
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
        let mut c = super::Crc32::castagnoli();
        c.update(b"123456789");
        assert_eq!(c.finish(), 0xE306_9283);
    }
}
