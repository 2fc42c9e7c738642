//! The allocator microsim's own binaries use, for a user's binary to use too.
//!
//! A replication allocates its tasks, cells and message buffers and frees them at its end;
//! the next one allocates the same again. The system allocator hands such big blocks back to
//! the kernel and faults them in afresh (measured: a quarter of a small Mamma Mia
//! replication's time); mimalloc, told not to hand freed pages back, reuses them. Peak memory,
//! which the memory budget bounds, is the same. In a binary:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: microsim::alloc::Allocator = microsim::alloc::Allocator;
//! # fn main() {
//! #     let v = vec![1u64; 1000]; // allocated by mimalloc
//! #     assert_eq!(v.iter().sum::<u64>(), 1000);
//! # }
//! ```
//!
//! [`crate::cli::main`] calls [`keep_freed_pages`] itself.

/// mimalloc, as a global allocator.
pub use mimalloc::MiMalloc as Allocator;

/// `mi_option_purge_delay` in the mimalloc bundled with libmimalloc-sys 0.1.49 (pinned).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to hand freed pages back to the kernel while the process runs. Does
/// nothing useful (and no harm) when mimalloc is not the global allocator.
#[allow(unsafe_code)]
pub fn keep_freed_pages() {
    // SAFETY: setting an option is a plain store into mimalloc's option table; it is read
    // when mimalloc considers purging.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

#[cfg(test)]
#[allow(unsafe_code)]
mod tests {
    #[test]
    fn the_pinned_option_number_is_purge_delay() {
        // Before: purge_delay's default in this mimalloc (1000 ms), unless the environment
        // set it; no other option defaults to 1000.
        // SAFETY: reading an option is a plain load.
        let before = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert!(before == 1000 || before == -1, "option 15 is {before}");
        }
        super::keep_freed_pages();
        // SAFETY: reading an option is a plain load.
        let v = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(v, -1);
    }
}
