import CSupport
import Synchronization

/// A request to stop a run at its next safe point: between trials, and between the pieces of the
/// whole-dataset passes (activation cache, BN population statistics, test evaluation). Once
/// requested it stays requested, so a pass that returns early and its caller always agree.
///
/// `StopRequest.signals()` also answers to SIGINT/SIGTERM (a second signal exits the process at
/// once, see CSupport/signals.c); a library user calls `request()` from any thread.
///
/// Across the ranks of an MPI job (`agree(across:)`), every check is a collective: true on every
/// rank as soon as any rank was asked to stop, so all ranks stop at the same safe point. The ranks'
/// driving threads check at the same points of the same code, so the collectives match up.
public final class StopRequest: Sendable {
    private let requested = Atomic<Bool>(false)
    private let watchesSignals: Bool
    /// Set once, before the run, by the driving thread (the only thread that checks then).
    nonisolated(unsafe) private var group: ProcessGroup?
    private let agreed = Atomic<Bool>(false)

    /// Never requested unless `request()` is called.
    public init() { watchesSignals = false }

    private init(watchingSignals: Bool) { watchesSignals = watchingSignals }

    /// Installs the SIGINT/SIGTERM handlers (process-wide) and answers to them.
    public static func signals() -> StopRequest {
        cs_install_stop_signals()
        return StopRequest(watchingSignals: true)
    }

    public func request() { requested.store(true, ordering: .releasing) }

    /// Makes every later `isRequested` a collective over `group` (no-op for a single process).
    public func agree(across group: ProcessGroup) {
        if group.size > 1 { self.group = group }
    }

    public var isRequested: Bool {
        let here = requested.load(ordering: .acquiring) || signal != nil
        guard let group else { return here }
        // Once agreed it stays agreed on every rank, so no rank makes a collective the others skip.
        if agreed.load(ordering: .acquiring) { return true }
        let any: Bool
        do { any = try group.anyRank(here) } catch { abortJob(after: error, rank: group.rank) }
        if any { agreed.store(true, ordering: .releasing) }
        return any
    }

    /// The stop signal received, if any.
    public var signal: Int32? {
        guard watchesSignals else { return nil }
        let s = cs_stop_signal()
        return s == 0 ? nil : s
    }
}

/// Thrown by a phase that honoured a stop request before it had a result (data loading).
public struct RunStopped: Error, CustomStringConvertible, Sendable {
    public var phase: String
    public var description: String { "stopped while \(phase)" }
}
