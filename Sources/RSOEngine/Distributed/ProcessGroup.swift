import Foundation

/// The processes one run is spread over: a single process, or the ranks of an MPI job. Only the
/// thread that drives the run communicates; worker threads never do. Every collective returns the
/// same bytes on every rank, so all ranks take the same decisions.
public protocol ProcessGroup: AnyObject {
    /// This process's index in 0..<size.
    var rank: Int { get }
    var size: Int { get }
    /// Every rank contributes `values` (the same count on every rank); the result is every rank's
    /// values concatenated in rank order.
    func allgather(_ values: [Double]) throws -> [Double]
    /// Rank r contributes `counts[r]` values (`values.count` on this rank); `output` (Σ counts
    /// values) receives them all in rank order on every rank.
    func allgatherv(_ values: UnsafeBufferPointer<Double>, counts: [Int], into output: UnsafeMutablePointer<Double>) throws
    /// In place: rank r's `counts[r]` floats already sit in `buffer` after those of the ranks
    /// before it; afterwards every rank's are there on every rank.
    func allgatherInPlace(_ buffer: UnsafeMutablePointer<Float>, counts: [Int]) throws
    /// True on every rank if it is true on any rank (agreeing on a stop request).
    func anyRank(_ flag: Bool) throws -> Bool
    /// Rank `root`'s bytes on every rank (`bytes` must have the same count on every rank).
    func broadcast(_ bytes: inout [UInt8], root: Int) throws
    /// Each rank's host name, in rank order.
    func hostNames() throws -> [String]
    /// The collectives this process has made so far (all zero for one process).
    var traffic: CommunicationTraffic { get }
}

/// What a process's collectives cost it: how many, the bytes of the other ranks' contributions
/// they delivered to it (the payload, whatever algorithm MPI picks), and the wall-clock time spent
/// inside them (waiting for a slower rank included).
public struct CommunicationTraffic: Sendable, Equatable {
    public var collectives = 0
    public var bytesReceived = 0
    public var seconds = 0.0

    public init(collectives: Int = 0, bytesReceived: Int = 0, seconds: Double = 0) {
        self.collectives = collectives
        self.bytesReceived = bytesReceived
        self.seconds = seconds
    }

    /// The traffic since `earlier` (a snapshot of the same counters).
    public func since(_ earlier: CommunicationTraffic) -> CommunicationTraffic {
        CommunicationTraffic(collectives: collectives - earlier.collectives,
                             bytesReceived: bytesReceived - earlier.bytesReceived, seconds: seconds - earlier.seconds)
    }
}

extension ProcessGroup {
    /// Number of distinct hosts the ranks run on.
    public func nodeCount() throws -> Int { Set(try hostNames()).count }
}

/// One process, no MPI: every collective is the identity.
public final class LocalProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allgather(_ values: [Double]) throws -> [Double] { values }
    public func allgatherv(_ values: UnsafeBufferPointer<Double>, counts: [Int],
                           into output: UnsafeMutablePointer<Double>) throws {
        if let values = values.baseAddress { output.update(from: values, count: counts[0]) }
    }
    public func allgatherInPlace(_ buffer: UnsafeMutablePointer<Float>, counts: [Int]) throws {}
    public func anyRank(_ flag: Bool) throws -> Bool { flag }
    public func broadcast(_ bytes: inout [UInt8], root: Int) throws {}
    public func hostNames() throws -> [String] { [ProcessInfo.processInfo.hostName] }
    public var traffic: CommunicationTraffic { CommunicationTraffic() }
}

public enum ProcessGroups {
    /// True when a launcher (mpirun, srun with PMIx) started this process as one rank of a job.
    public static func launchedByMPI(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains { environment[$0] != nil }
    }

    nonisolated(unsafe) private static var shared: ProcessGroup?

    /// This process's group, created once: MPI when launched by an MPI launcher, else a plain local
    /// process (a plain `rso` never touches MPI). Call from the main thread only.
    public static func current() throws -> ProcessGroup {
        if let shared { return shared }
        let group: ProcessGroup = launchedByMPI() ? try MPIProcessGroup() : LocalProcess()
        shared = group
        return group
    }
}
