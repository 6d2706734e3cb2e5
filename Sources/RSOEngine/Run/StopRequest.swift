import CSupport
import Synchronization

/// A request to stop a run at its next safe point: between trials, and between the pieces of the
/// whole-dataset passes (activation cache, BN population statistics, test evaluation). Once
/// requested it stays requested, so a pass that returns early and its caller always agree.
///
/// `StopRequest.signals()` also answers to SIGINT/SIGTERM (a second signal exits the process at
/// once, see CSupport/signals.c); a library user calls `request()` from any thread.
public final class StopRequest: Sendable {
    private let requested = Atomic<Bool>(false)
    private let watchesSignals: Bool

    /// Never requested unless `request()` is called.
    public init() { watchesSignals = false }

    private init(watchingSignals: Bool) { watchesSignals = watchingSignals }

    /// Installs the SIGINT/SIGTERM handlers (process-wide) and answers to them.
    public static func signals() -> StopRequest {
        cs_install_stop_signals()
        return StopRequest(watchingSignals: true)
    }

    public func request() { requested.store(true, ordering: .releasing) }

    public var isRequested: Bool {
        requested.load(ordering: .acquiring) || signal != nil
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
