@testable import RSOEngine
import XCTest

/// The engine's whole back-propagation (BackwardPass over a batch-mode forward, float kernels) for
/// each of the paper's networks on a small batch, against central finite differences of the
/// double-precision network loss (DoubleForward.networkLoss) at the same float parameters and input.
///
/// Bound, per checked entry: |g − fd| ≤ τ·(|fd| + rms(g over its tensor)).
///   * fd: h = 1e-6 in double: rounding ≤ 2⁻⁵³·|L|·(ops)/h ≈ 1e-9 relative, truncation ≤ 1e-12·|L'''|;
///     a ReLU kink crossed by the ±h step changes one of the thousands of activation terms that
///     make up a gradient entry, far below τ.
///   * g: every float value the engine stores has ≤ u = 2⁻²⁴ relative error, and each float
///     reduction of m terms adds rounding of typical size √m·u·Σ|terms| (independent roundings;
///     the worst case γ_m is rarely approached). The longest reductions here are BN and
///     conv-weight sums over m = n·H·W ≤ 2·32·32 = 2048 values: √m·u ≈ 3e-6. Through ≤ 30 steps,
///     each amplifying by at most the ratio Σ|terms|/|Σ| (≤ ~10 after BN's centring), the
///     normwise error stays ≲ 30·10·3e-6 ≈ 1e-3. Hence τ = 2e-3 for the optimised kernels; the
///     reference kernels (double accumulation) make it smaller, so the same τ holds for both.
/// Entries whose tensor-relative error goes past τ fail the test with both values.
final class NetworkGradientCheckTests: XCTestCase {
    private let tau = 2e-3

    private func checkNetwork(_ spec: NetworkSpec, samples n: Int = 2, entriesPerTensor: Int = 2,
                              kernels: KernelSet = .optimized) {
        let data = dataset(for: spec, count: n, seed: 31)
        let params = NetworkParameters.heNormal(network: spec, seed: 5)
        // Non-trivial γ, β and bias so their gradients and the BN backward are exercised generally.
        var prng = SeededGenerator(seed: 9)
        for d in spec.layers.indices {
            if let g = params.gammas[d] { for i in 0..<g.count { g[i] = Float(0.8 + 0.4 * prng.nextUnitDouble()) } }
            let b = params.betasOrBias[d]
            for i in 0..<b.count { b[i] = Float(0.2 * prng.nextUnitDouble() - 0.1) }
        }
        let executor = ForwardExecutor(parameters: params, capacity: n, kernels: kernels)
        let backward = BackwardPass(forward: executor)
        let indices = (0..<Int32(n)).map { $0 }
        indices.withUnsafeBufferPointer { executor.loadInput(from: data, indices: $0) }
        executor.run(bn: .batch)
        backward.run()

        let input = Array(UnsafeBufferPointer(start: executor.chunkBase(tensor: 0, chunk: 0),
                                              count: n * executor.plan.tensors[0].elementsPerSample)).map(Double.init)
        let labels = Array(UnsafeBufferPointer(start: executor.labelBase(chunk: 0), count: n))
        let base = params.allTensors.map { $0.values.map(Double.init) }
        var rng = SeededGenerator(seed: 77)
        for (ti, (p, g)) in zip(params.allTensors, backward.gradients.allTensors).enumerated() {
            let grad = g.values
            let rms = (grad.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(grad.count)).squareRoot()
            for _ in 0..<entriesPerTensor {
                let i = Int(rng.next() % UInt64(p.count))
                let fd = DoubleForward.centralDifference({ v in
                    var q = base
                    q[ti] = v
                    return DoubleForward.networkLoss(spec, parameters: q, input: input, labels: labels, n: n)
                }, at: base[ti], index: i, step: 1e-6)
                let err = abs(Double(grad[i]) - fd)
                XCTAssertLessThanOrEqual(err, tau * (abs(fd) + rms),
                                         "\(spec.name) \(kernels) \(p.name)[\(i)]: back-propagation \(grad[i]), finite difference \(fd) (tensor rms \(rms))")
            }
        }
    }

    func testMnist6() { checkNetwork(NetworkZoo.mnist6()) }
    func testMnist6ReferenceKernels() { checkNetwork(NetworkZoo.mnist6(), entriesPerTensor: 1, kernels: .reference) }
    func testCifarDepth3() { checkNetwork(NetworkZoo.cifarDepth3()) }
    func testCifarDepth5() { checkNetwork(NetworkZoo.cifarDepth5()) }
    func testCifarDepth10() { checkNetwork(NetworkZoo.cifarDepth10(), entriesPerTensor: 1) }
}
