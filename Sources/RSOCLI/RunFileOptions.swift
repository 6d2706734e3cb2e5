import ArgumentParser

/// The files and display of a training run (shared by `rso train` and `rso sgd`): metrics,
/// checkpoint, resume and progress.
struct RunFileOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Append metrics as JSON lines to this file (rso sgd's eval records carry updates = iterations, to line up with RSO's cycles).", valueName: "file"))
    var metrics: String?
    @Option(name: .long, help: ArgumentHelp("Checkpoint file (safetensors). Default: runs/<net>-seed<seed>.safetensors (rso sgd: runs/<net>-sgd-seed<seed>.safetensors).", valueName: "file"))
    var checkpoint: String?
    @Option(name: .long, help: "Minutes between time-based checkpoints (also written at each cycle end or evaluation, and at exit).")
    var checkpointEvery: Double = 10
    @Option(name: .long, help: ArgumentHelp("Continue the run saved in this checkpoint (with the same options).", valueName: "file"))
    var resume: String?
    @Option(name: .long, help: "Progress display: auto (bar on a terminal, lines otherwise), bar, lines.")
    var progress: ProgressStyle = .auto

    func validate() throws {
        if !(checkpointEvery.isFinite && checkpointEvery > 0) {
            throw ValidationError("--checkpoint-every must be a finite positive number of minutes, got \(checkpointEvery)")
        }
    }
}
