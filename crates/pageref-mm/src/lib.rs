//! The kernel around the page refcount (work in progress).
