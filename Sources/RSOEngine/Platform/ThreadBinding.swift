import CSupport

/// Runs `body`, then puts the calling thread's CPU binding back as it was. A pinned `WorkerPool`
/// binds its calling thread as worker 0; threads that thread creates later (an OpenMP team)
/// inherit its binding, so a process that runs a pool and then an OpenMP team — `rso bench
/// scaling` — would otherwise start the whole team on worker 0's PU.
public func preservingThreadBinding<T>(_ body: () throws -> T) rethrows -> T {
    let saved = cs_save_thread_binding()
    defer { _ = cs_restore_thread_binding(saved) }
    return try body()
}
