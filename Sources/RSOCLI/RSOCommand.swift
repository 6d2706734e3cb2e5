import ArgumentParser

/// `rso`: train and measure convolutional networks with random search optimisation.
public struct RSOCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rso",
        abstract: "Random search optimisation (RSO) engine for convolutional networks.",
        subcommands: [TrainCommand.self, SGDCommand.self, ReproduceCommand.self, EvalCommand.self, FlopsCommand.self, InfoCommand.self, BenchCommand.self]
    )
    public init() {}
}
