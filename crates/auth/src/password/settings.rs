use argon2::Params;

use crate::ConfigError;

/// OWASP's minimum argon2id memory cost (19 MiB): the default, and the floor production requires.
pub const OWASP_MEMORY_KIB: u32 = Params::DEFAULT_M_COST;
/// OWASP's minimum argon2id passes at that memory cost.
pub const OWASP_ITERATIONS: u32 = Params::DEFAULT_T_COST;

/// argon2id cost parameters and the cap on concurrent hash/verify operations.
///
/// Defaults are OWASP's minimum for argon2id (m = 19456 KiB, t = 2, p = 1), and one operation
/// per available core at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argon2Settings {
    /// Memory cost in KiB (`m`); each in-flight operation holds this much memory.
    pub memory_kib: u32,
    /// Number of passes (`t`).
    pub iterations: u32,
    /// Degree of parallelism (`p`).
    pub parallelism: u32,
    /// How many hash/verify operations may run at once; further callers wait their turn.
    /// 0 means one per available core (as `std::thread::available_parallelism` tells, 1 when
    /// it cannot tell).
    pub max_concurrent: usize,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self {
            memory_kib: OWASP_MEMORY_KIB,
            iterations: OWASP_ITERATIONS,
            parallelism: Params::DEFAULT_P_COST,
            max_concurrent: 0,
        }
    }
}

impl Argon2Settings {
    /// The cap on concurrent operations, with 0 resolved to the number of available cores.
    pub(super) fn permits(&self) -> usize {
        match self.max_concurrent {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }

    pub(super) fn params(&self) -> Result<Params, ConfigError> {
        // Checked here, in this order, because argon2's own check multiplies `p` first and
        // would overflow on absurd values instead of naming the setting.
        if !(Params::MIN_P_COST..=Params::MAX_P_COST).contains(&self.parallelism) {
            return Err(ConfigError::invalid(
                "parallelism",
                format!("must be between 1 and {}", Params::MAX_P_COST),
            ));
        }
        if self.iterations < Params::MIN_T_COST {
            return Err(ConfigError::invalid("iterations", "must be at least 1"));
        }
        let min_memory = Params::MIN_M_COST.max(8 * self.parallelism);
        if self.memory_kib < min_memory {
            return Err(ConfigError::invalid(
                "memory_kib",
                format!("must be at least {min_memory} (8 × parallelism)"),
            ));
        }
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| ConfigError::invalid("memory_kib", e.to_string()))
    }
}
