//! Residency checks through `/proc/PID/pagemap`, for kernels without `PROCESS_VM_NOWAIT`.
