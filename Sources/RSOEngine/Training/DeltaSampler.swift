extension DeltaDistribution {
    /// One perturbation for a parameter whose current σ is `sigma`.
    public func sample(sigma: Double, using rng: inout SeededGenerator) -> Double {
        switch self {
        case .gaussian: return sigma * rng.nextGaussian()
        case .uniform: return sigma * (4 * rng.nextUnitDouble() - 2)
        case .template:
            switch rng.next() % 3 {
            case 0: return -sigma
            case 1: return 0
            default: return sigma
            }
        }
    }
}
