//! A default MQTT client id for the connection form.
//!
//! The page supplies the randomness (for example from `crypto.getRandomValues`);
//! this module only mixes it and formats it, so it stays deterministic and
//! testable. The result, `mqdash-` and 8 hex digits, is 15 characters of
//! `[0-9a-z-]`, within MQTT 3.1's 23-character limit and its character set.

/// The prefix of generated client ids.
pub const CLIENT_ID_PREFIX: &str = "mqdash-";

/// SplitMix64's finaliser: spreads every bit of the seed over the output, so
/// that close seeds (a counter, a timestamp) give unrelated ids.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A client id like `mqdash-3f9a1c2b` from a random `seed`.
pub fn random_client_id(seed: u64) -> String {
    format!("{CLIENT_ID_PREFIX}{:08x}", mix(seed) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_is_the_prefix_and_eight_hex_digits() {
        let id = random_client_id(42);
        assert_eq!(id.len(), 15);
        assert!(id.starts_with("mqdash-"));
        assert!(id[7..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn same_seed_gives_the_same_id_and_neighbouring_seeds_differ() {
        assert_eq!(random_client_id(7), random_client_id(7));
        let ids: std::collections::HashSet<String> = (0..1000).map(random_client_id).collect();
        assert_eq!(ids.len(), 1000);
    }
}
