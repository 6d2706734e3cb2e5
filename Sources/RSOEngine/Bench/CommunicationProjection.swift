import Foundation

/// One rank's communication per RSO step, measured by `rso bench trial` under mpirun.
public struct TrialCommunication: Sendable, Codable, Equatable {
    /// Collectives per step (one per BN barrier and per loss/correct-count sum of the batch).
    public var collectives: Double
    /// Bytes of the other ranks' partials this rank received per step.
    public var bytesReceived: Double
    /// Seconds this rank spent inside collectives per step (waiting for a slower rank included).
    public var seconds: Double
    /// Bytes of every chunk's partials per step (all ranks' contributions together): what each
    /// node must end up with, whatever the node count.
    public var payloadBytes: Double

    public init(collectives: Double, bytesReceived: Double, seconds: Double, payloadBytes: Double) {
        self.collectives = collectives
        self.bytesReceived = bytesReceived
        self.seconds = seconds
        self.payloadBytes = payloadBytes
    }
}

/// Projects one layer's step time on N nodes from one node's measurement (docs/performance.md,
/// "Projection to several nodes"):
///
///     compute(N) = (t − c) · ⌈C / (N·W)⌉ / ⌈C / W⌉
///     comm(N)    = k · α · ⌈log₂ N⌉ + P · (N − 1) / N / β
///
/// t: measured seconds per step on one node, c: of which in collectives, C: chunks per batch,
/// W: workers of the measured node (ranks × threads), k: collectives per step, P: payload bytes
/// per step, α: latency of one message round, β: link bandwidth. The compute term is the node's
/// chunk work divided over N nodes at chunk granularity (a node waits for its fullest worker); the
/// communication term is an allgather over one rank per node: ⌈log₂ N⌉ message rounds each, and
/// every node receiving the other nodes' share of the payload once.
public struct CommunicationProjection: Sendable, Equatable {
    public var nodes: Int
    public var latency: Double
    public var computeSeconds: Double
    public var communicationSeconds: Double
    public var stepSeconds: Double { computeSeconds + communicationSeconds }
    /// Share of a step spent communicating.
    public var communicationShare: Double { stepSeconds > 0 ? communicationSeconds / stepSeconds : 0 }

    /// 100 Gb/s in bytes per second.
    public static let bandwidth100Gb = 100e9 / 8

    public init(stepSeconds t: Double, communication m: TrialCommunication, chunks: Int, workers: Int, nodes: Int,
                latency: Double, bandwidth: Double = bandwidth100Gb) {
        precondition(chunks > 0 && workers > 0 && nodes > 0)
        func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
        self.nodes = nodes
        self.latency = latency
        let compute = max(0, t - m.seconds)
        computeSeconds = compute * Double(ceilDiv(chunks, nodes * workers)) / Double(ceilDiv(chunks, workers))
        let rounds = Double(Int.bitWidth - (nodes - 1).leadingZeroBitCount)  // ⌈log₂ N⌉
        communicationSeconds = m.collectives * latency * rounds
            + m.payloadBytes * Double(nodes - 1) / Double(nodes) / bandwidth
    }
}
