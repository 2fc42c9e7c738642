//! A cache hint: ask for memory that will be read soon, without waiting for it.
//!
//! For [`Model::prefetch_cell`](crate::Model::prefetch_cell): a model whose cell state is a
//! large table calls [`prefetch_read`] on the entry a message will touch, and the engine calls
//! that a few messages ahead, so a batch's cache misses overlap.

/// Asks the CPU to bring the cache line holding `*p` closer, without waiting for it and
/// without reading it: it never faults and never changes what the program computes. On
/// targets other than x86-64 it does nothing.
#[inline(always)]
pub fn prefetch_read<T>(p: &T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: PREFETCHT0 is a hint: it does not access memory architecturally, cannot fault,
    // and SSE (which it needs) is part of the x86-64 baseline. `p` is a valid reference anyway.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((p as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
