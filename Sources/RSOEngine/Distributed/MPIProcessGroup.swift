import CMPI
import Foundation

/// An error reported by an MPI call, with MPI's own text.
public struct MPIError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public var description: String {
        var text = [CChar](repeating: 0, count: 512)
        rso_mpi_error_string(code, &text, Int32(text.count))
        let message = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return "MPI: \(call) failed (error \(code): \(message))"
    }
}

/// A collective larger than MPI's int counts allow (2³¹−1 values per call).
public struct MPICountError: Error, CustomStringConvertible {
    public let call: String
    public let values: Int
    public var description: String {
        "MPI: \(call) of \(values) values exceeds MPI's limit of \(Int32.max) per call (use a smaller --batch)"
    }
}

/// The ranks of the MPI job this process belongs to (MPI_COMM_WORLD). MPI is finalised when the
/// process exits, so every exit path — including argument errors — ends the rank cleanly.
final class MPIProcessGroup: ProcessGroup {
    let rank: Int
    let size: Int
    private(set) var traffic = CommunicationTraffic()
    private let clock = ContinuousClock()

    init() throws {
        var r: Int32 = 0
        var s: Int32 = 0
        try check("MPI_Init_thread", rso_mpi_init(&r, &s))
        rank = Int(r)
        size = Int(s)
        atexit { if rso_mpi_initialized() != 0 { _ = rso_mpi_finalize() } }
    }

    /// Runs one collective, counting it, the `received` bytes of other ranks it delivers here, and
    /// its time.
    private func collective(_ call: String, received: Int, _ body: () -> Int32) throws {
        let start = clock.now
        let rc = body()
        let d = clock.now - start
        traffic.collectives += 1
        traffic.bytesReceived += received
        traffic.seconds += Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        try check(call, rc)
    }

    func allgather(_ values: [Double]) throws -> [Double] {
        var out = [Double](repeating: 0, count: values.count * size)
        try collective("MPI_Allgather", received: (size - 1) * values.count * 8) {
            values.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { rso_mpi_allgather_f64(input.baseAddress, Int32(values.count), $0.baseAddress) }
            }
        }
        return out
    }

    func allgatherv(_ values: UnsafeBufferPointer<Double>, counts: [Int],
                    into output: UnsafeMutablePointer<Double>) throws {
        precondition(counts.count == size && counts[rank] == values.count)
        let (counts32, displacements) = try layout(counts, call: "MPI_Allgatherv")
        try collective("MPI_Allgatherv", received: (counts.reduce(0, +) - counts[rank]) * 8) {
            rso_mpi_allgatherv_f64(values.baseAddress, Int32(values.count), output, counts32, displacements)
        }
    }

    func allgatherInPlace(_ buffer: UnsafeMutablePointer<Float>, counts: [Int]) throws {
        precondition(counts.count == size)
        let (counts32, displacements) = try layout(counts, call: "MPI_Allgatherv")
        try collective("MPI_Allgatherv", received: (counts.reduce(0, +) - counts[rank]) * 4) {
            rso_mpi_allgatherv_in_place_f32(buffer, counts32, displacements)
        }
    }

    /// MPI's int counts and the displacements of rank-ordered contributions.
    private func layout(_ counts: [Int], call: String) throws -> ([Int32], [Int32]) {
        let total = counts.reduce(0, +)
        guard total <= Int(Int32.max) else { throw MPICountError(call: call, values: total) }
        let counts32 = counts.map { Int32($0) }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<max(1, size) { displacements[r] = displacements[r - 1] + counts32[r - 1] }
        return (counts32, displacements)
    }

    func anyRank(_ flag: Bool) throws -> Bool {
        var out: Int32 = 0
        try collective("MPI_Allreduce", received: (size - 1) * 4) { rso_mpi_allreduce_max_i32(flag ? 1 : 0, &out) }
        return out != 0
    }

    func broadcast(_ bytes: inout [UInt8], root: Int) throws {
        let count = Int32(bytes.count)
        try collective("MPI_Bcast", received: rank == root ? 0 : bytes.count) {
            bytes.withUnsafeMutableBytes { rso_mpi_bcast_bytes($0.baseAddress, count, Int32(root)) }
        }
    }

    func hostNames() throws -> [String] {
        let width = 256
        var mine = [CChar](repeating: 0, count: width)
        try check("MPI_Get_processor_name", rso_mpi_processor_name(&mine, Int32(width)))
        var all = [CChar](repeating: 0, count: width * size)
        try collective("MPI_Allgather", received: (size - 1) * width) {
            mine.withUnsafeBytes { input in
                all.withUnsafeMutableBytes { rso_mpi_allgather_bytes(input.baseAddress, Int32(width), $0.baseAddress) }
            }
        }
        return (0..<size).map { r in
            all[(r * width)..<((r + 1) * width)].withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
    }
}

/// A collective failed: a rank died or the transport broke. The ranks cannot agree any more, so
/// the whole job ends now with the reason (never a hang, never a checkpoint from a lost step).
public func abortJob(after error: Error, rank: Int) -> Never {
    FileHandle.standardError.write(Data("Error: rank \(rank): \(error); ending the MPI job\n".utf8))
    rso_mpi_abort(1)
    exit(1)
}

private func check(_ call: String, _ rc: Int32) throws {
    if rc != 0 { throw MPIError(call: call, code: rc) }
}
