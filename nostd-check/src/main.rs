//! A freestanding program that uses coldscan-core: see Cargo.toml for why it exists.
#![no_std]
#![no_main]

use coldscan_core::volume::read_volumes;
use coldscan_core::Budget;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicUsize, Ordering};

// The C library provides the process entry point (crt1 → __libc_start_main → main) and memcpy.
#[link(name = "c")]
extern "C" {}

const ARENA: usize = 1 << 20;

/// A bump allocator over a static arena: never frees, enough for one small run.
struct Bump {
    arena: UnsafeCell<[u8; ARENA]>,
    next: AtomicUsize,
}

// SAFETY: allocation hands out disjoint ranges via an atomic cursor.
unsafe impl Sync for Bump {}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut start = 0;
        let claimed = self.next.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |next| {
            start = next.next_multiple_of(layout.align());
            let end = start.checked_add(layout.size())?;
            (end <= ARENA).then_some(end)
        });
        match claimed {
            Ok(_) => unsafe { (self.arena.get() as *mut u8).add(start) },
            Err(_) => core::ptr::null_mut(),
        }
    }
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: Bump = Bump { arena: UnsafeCell::new([0; ARENA]), next: AtomicUsize::new(0) };

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}

/// The prebuilt `core`/`alloc` were compiled with unwinding and name these symbols; with
/// `panic = "abort"` nothing unwinds, so they are never called.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// See [`rust_eh_personality`].
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    loop {}
}

/// Reads the (empty) partition table of a 64 KiB zeroed disk: exit status 0 when the core
/// presents it as one whole-disk volume.
#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    static DISK: [u8; 65536] = [0; 65536];
    let budget = Budget::new(1 << 16);
    match read_volumes(&&DISK[..], &budget) {
        Ok(table) if table.volumes.len() == 1 => 0,
        _ => 1,
    }
}
