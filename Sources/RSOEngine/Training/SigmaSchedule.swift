/// σ per layer and cycle: σ_d is the std of layer d's weights at initialisation (times
/// `sigmaScale`), annealed linearly from σ_d in cycle 1 to σ_d·finalRatio in the last cycle.
public struct SigmaSchedule: Codable, Equatable, Sendable {
    public var initial: [Double]
    public var cycles: Int
    public var finalRatio: Double

    public init(initial: [Double], cycles: Int, finalRatio: Double) {
        self.initial = initial
        self.cycles = cycles
        self.finalRatio = finalRatio
    }

    /// Measures σ_d from the initial weights (population std of each weight tensor).
    public init(parameters: NetworkParameters, scale: Double, cycles: Int, finalRatio: Double) {
        initial = parameters.weights.map { t in
            let n = Double(t.count)
            var sum = 0.0, sq = 0.0
            for v in t.storage { sum += Double(v); sq += Double(v) * Double(v) }
            let mean = sum / n
            return scale * max(0, sq / n - mean * mean).squareRoot()
        }
        self.cycles = cycles
        self.finalRatio = finalRatio
    }

    /// σ of layer `d` in cycle `cycle` (0-based).
    public func sigma(layer d: Int, cycle: Int) -> Double {
        let progress = cycles > 1 ? Double(min(cycle, cycles - 1)) / Double(cycles - 1) : 0
        return initial[d] * (1 - progress * (1 - finalRatio))
    }
}
